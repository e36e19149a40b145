"""Memory held by pending request heads (issue 23, N6): ``python -m bench.bigheads``.

Starts the production server as ``make serve`` configures it (one worker), opens
64 connections that each send the largest request head the configured limits
let through (``limit_request_fields`` fields of ``limit_request_field_size``
bytes, from webhook/gunicorn.conf.py) without ending it, and prints the
worker's resident memory before and while it holds them. A head is cut 5 s
after it started, so the memory is held that long per connection.
"""
from __future__ import annotations

import re
import runpy
import socket
import sys
import tempfile
import time
from pathlib import Path

from bench.pki import write_pki
from testkit.server import ROOT, gunicorn

CONNECTIONS = 64


def worker_rss_mb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status)[1]) // 1024


def main() -> int:
    conf = runpy.run_path(str(ROOT / "webhook" / "gunicorn.conf.py"))
    fields, size = conf["limit_request_fields"], conf["limit_request_field_size"]
    line = b"X-P%02d: " + b"x" * (size - 9) + b"\r\n"     # exactly ``size`` bytes with its CRLF
    head = b"POST /alexa HTTP/1.1\r\n" + b"".join(line % i for i in range(fields - 1))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_pki(work)
        with gunicorn("bench.signed_app:app", env={"BENCH_PKI_DIR": str(work), "LOG_LEVEL": "WARNING"},
                      workers=1, log=work / "server.log") as base:
            host, port = base.rsplit("//", 1)[1].split(":")
            pid = int(re.findall(r"Booting worker with pid: (\d+)", (work / "server.log").read_text())[-1])
            idle = worker_rss_mb(pid)
            held = [socket.create_connection((host, int(port)), timeout=5) for _ in range(CONNECTIONS)]
            for sock in held:
                sock.sendall(head)
            time.sleep(3)   # the worker has read them all; the head deadline (5 s) has not cut them yet
            busy = worker_rss_mb(pid)
            for sock in held:
                sock.close()
    print(f"{CONNECTIONS} pending heads of {len(head):,} bytes ({fields - 1} fields of {size:,} bytes): "
          f"worker RSS {idle} MB -> {busy} MB (+{busy - idle} MB). Command: python -m bench.bigheads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
