"""The production webhook, trusting a throwaway root: for benchmarks and HTTP tests only.

Production code takes trust roots only as a constructor argument and never from
settings; this module is the one place that injects a test root, read from the
directory ``bench.pki`` wrote (``BENCH_PKI_DIR``). Run it with gunicorn:
``gunicorn -c webhook/gunicorn.conf.py bench.signed_app:app``.
"""
from __future__ import annotations

import os
from pathlib import Path

from bench.pki import CERT_URL, SKILL_ID, load_chain, load_root
from webhook.verification import Verifier
from webhook.app import PRODUCTION, create_app, configure_logging

PKI_DIR = Path(os.environ["BENCH_PKI_DIR"])
_CHAIN = load_chain(PKI_DIR)


def _fetch(url: str) -> bytes:
    """Stands in for S3: serves the bench chain for the bench URL only."""
    if url != CERT_URL:
        raise OSError("unknown certificate url")
    return _CHAIN


configure_logging()
app = create_app(mode=PRODUCTION, skill_ids=SKILL_ID,
                 verifier=Verifier({SKILL_ID}, trust_roots=[load_root(PKI_DIR)], fetcher=_fetch))
