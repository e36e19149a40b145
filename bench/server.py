"""Start a gunicorn server on loopback and wait until it answers: for benchmarks and HTTP tests."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(app: str, env: dict[str, str] | None = None, workers: int = 2,
             log: Path | None = None, timeout: float = 20.0) -> Iterator[str]:
    """Run ``gunicorn -c gunicorn.conf.py APP`` on 127.0.0.1; yields its base URL."""
    port = free_port()
    settings = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port),
                "WEB_CONCURRENCY": str(workers), "PYTHONPATH": str(ROOT), **(env or {})}
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), app],
                            cwd=ROOT, env=settings, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/health", timeout=1).ok:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start in time")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            out.close()
