"""Load test of the production webhook: gunicorn, verification on, signed requests, wrk.

    python -m bench.load            # 10 s per concurrency level (1, 8, 32)
    BENCH_SECONDS=30 python -m bench.load
    BENCH_QUICK=1 python -m bench.load   # 2 s per level: a smoke run

The server trusts a throwaway root injected by ``bench.signed_app`` (never a
production setting). Prints a Markdown table for BENCHMARKS.md; exits non-zero
if any request failed.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from bench.pki import CERT_URL, SKILL_ID, load_key, write_pki
from testkit.server import gunicorn
from testkit import envelopes as E
from testkit.alexa_certs import envelope_body, sign_body

LEVELS = (1, 8, 32)
LUA = """
local f = io.open("{body}", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["SignatureCertChainUrl"] = "{url}"
wrk.headers["Signature-256"] = "{signature}"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {{"requests": %d, "seconds": %f, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": %d}}\\n', summary.requests, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def wrk_script(work: Path, key) -> Path:
    """A signed topic question, freshly timestamped (valid for 150 s)."""
    body = envelope_body(E.envelope(E.intent("WhereItSpreadsIntent"), app_id=SKILL_ID))
    (work / "body.json").write_bytes(body)
    script = work / "post.lua"
    script.write_text(LUA.format(body=work / "body.json", url=CERT_URL, signature=sign_body(body, key)))
    return script


def run_wrk(url: str, script: Path, connections: int, seconds: int) -> dict:
    threads = min(connections, 2)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    line = next(row for row in out.splitlines() if row.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main() -> int:
    if not shutil.which("wrk"):
        print("bench.load needs wrk: sudo apt-get install wrk", file=sys.stderr)
        return 2
    seconds = 2 if os.environ.get("BENCH_QUICK") else int(os.environ.get("BENCH_SECONDS", "10"))
    workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_pki(work)
        with gunicorn("bench.signed_app:app", env={"BENCH_PKI_DIR": str(work), "LOG_LEVEL": "WARNING"},
                      workers=workers) as base:
            script = wrk_script(work, load_key(work))
            run_wrk(f"{base}/alexa", script, 2, 1)  # warm the chain cache in each worker
            results = {c: run_wrk(f"{base}/alexa", script, c, seconds) for c in LEVELS}
    print(f"Production webhook under load: gunicorn {workers} gevent workers (webhook/worker.py), verification on "
          f"(cached chain), signed IntentRequest, {seconds} s per level.")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{datetime.now(timezone.utc):%Y-%m-%d}. Command: `make bench-load`.\n")
    print("| concurrency | requests/s | p50 ms | p99 ms | errors |")
    print("|---:|---:|---:|---:|---:|")
    for c, r in results.items():
        print(f"| {c} | {r['requests'] / r['seconds']:.0f} | {r['p50_us'] / 1000:.2f} | "
              f"{r['p99_us'] / 1000:.2f} | {r['errors']} |")
    return 1 if any(r["errors"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
