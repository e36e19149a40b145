"""Slow-client attack on the production webhook, at full length (issue 12): ``make bench-slow``.

    python -m bench.slowloris                 # 25 s of attack
    BENCH_SECONDS=60 python -m bench.slowloris

Starts the production server exactly as ``make serve`` configures it (gunicorn,
webhook/gunicorn.conf.py, verification on; the throwaway root comes from
``bench.signed_app``) on loopback, opens 8 one-byte, 16 trickled-head and 8
trickled-body connections together (each reopened at once when the server
cuts it, so the pressure never lets up), and for the whole attack times ``GET /health``
and a signed question, each on a new connection. Prints a Markdown summary and
exits non-zero unless every probe answered within 2 s and every slow
connection was cut within 30 s. The test suite runs a 7-second version
(tests/test_battery.py::test_slow_clients_neither_starve_the_server_nor_linger).
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.pki import SKILL_ID, load_key, write_pki
from testkit import envelopes as E
from testkit.alexa_certs import envelope_body, signed_headers
from testkit.server import gunicorn
from testkit.slowclients import probe, slow_clients

ANSWER_WITHIN = 2.0
CUT_WITHIN = 30.0


def main() -> int:
    seconds = float(os.environ.get("BENCH_SECONDS", "25"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_pki(work)
        key = load_key(work)
        body = envelope_body(E.envelope(E.intent("WhereItSpreadsIntent"), app_id=SKILL_ID))

        with gunicorn("bench.signed_app:app", env={"BENCH_PKI_DIR": str(work)},
                      log=work / "server.log") as base:
            def signed() -> requests.Response:
                return requests.post(f"{base}/alexa", data=body, timeout=5,
                                     headers=signed_headers(body, key=key))

            started = time.monotonic()
            with slow_clients(base) as clients:
                timings = probe(base, seconds, signed)
            took = time.monotonic() - started
        cuts_logged = (work / "server.log").read_text(errors="replace").count("cut a slow client")

    print(f"Slow clients against `make serve`'s configuration: 8 one-byte, 16 trickled-head "
          f"(a line every 3 s), 8 trickled-body (a byte a second) clients for {seconds:.0f} s; "
          f"probes each on a new connection. Command: `make bench-slow`; took {took:.0f} s.\n")
    print("| probe | answered | median ms | max ms | target |")
    print("|---|---:|---:|---:|---|")
    ok = True
    for name, values in timings.items():
        good = [v for v in values if v != float("inf")]
        met = len(good) == len(values) and max(values) < ANSWER_WITHIN
        ok &= met
        median = f"{statistics.median(good) * 1000:.1f}" if good else "-"
        worst = f"{max(values) * 1000:.1f}" if len(good) == len(values) else "no answer in 5 s"
        print(f"| {name} | {len(good)}/{len(values)} | {median} | {worst} | "
              f"< {ANSWER_WITHIN * 1000:.0f} ms: {'met' if met else 'MISSED'} |")
    print("\n| slow connections | open at once | cut | each lasted (s), min–max | target |")
    print("|---|---:|---:|---|---|")
    for kind in ("one-byte", "head", "body"):
        slots = [c for c in clients if c.kind == kind]
        cuts = [t for c in slots for t in c.cuts]
        met = all(c.cuts and c.error is None for c in slots) and max(cuts, default=99) <= CUT_WITHIN
        ok &= met
        span = f"{min(cuts):.1f}–{max(cuts):.1f}" if cuts else "never cut"
        print(f"| {kind} | {len(slots)} | {len(cuts)} | {span} | "
              f"≤ {CUT_WITHIN:.0f} s: {'met' if met else 'MISSED'} |")
    print(f"\nServer log lines \"cut a slow client\": {cuts_logged}.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
