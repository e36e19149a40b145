"""The production webhook, trusting a throwaway root: for benchmarks and HTTP tests only.

Production code takes trust roots only as a constructor argument and never from
settings; this module is the one place that injects a test root, read from the
directory ``bench.pki`` wrote (``BENCH_PKI_DIR``). Run it with gunicorn:
``gunicorn -c webhook/gunicorn.conf.py bench.signed_app:app``.

Otherwise it is ``webhook.app.production_app``: the same settings from the
environment (``TRUSTED_PROXY_HOPS``, ``ALEXA_CERT_WARMUP``) and the workers'
shared replay ledger. ``BENCH_ALEXA_API`` (optional) names a simulator's
Alexa API on loopback that the skill may call, as a test's stand-in for Amazon's.
"""
from __future__ import annotations

import os
from pathlib import Path

from bench.pki import CERT_URL, SKILL_ID, load_chain, load_root
from skill import api_client
from webhook.app import PRODUCTION, configure_logging, create_app, proxy_hops_setting, warm_up_setting
from webhook.replays import share_from_environment
from webhook.verification import Verifier

PKI_DIR = Path(os.environ["BENCH_PKI_DIR"])
_CHAIN = load_chain(PKI_DIR)


def _fetch(url: str) -> bytes:
    """Stands in for S3: serves the bench chain for the bench URL only."""
    if url != CERT_URL:
        raise OSError("unknown certificate url")
    return _CHAIN


configure_logging()
share_from_environment()
if os.environ.get("BENCH_ALEXA_API"):
    api_client.allow_local_api(os.environ["BENCH_ALEXA_API"])
app = create_app(mode=PRODUCTION, skill_ids=SKILL_ID,
                 verifier=Verifier({SKILL_ID}, trust_roots=[load_root(PKI_DIR)], fetcher=_fetch),
                 proxy_hops=proxy_hops_setting(os.environ.get("TRUSTED_PROXY_HOPS")),
                 warm_cert_urls=warm_up_setting(os.environ.get("ALEXA_CERT_WARMUP")))
