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


class ServerError(RuntimeError):
    """The server exited or never answered /health."""


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """Poll ``base/health`` until it answers 200; raise if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise ServerError(f"server exited with {proc.returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base}/health", timeout=1).ok:
                return
        if time.monotonic() > deadline:
            raise ServerError(f"server did not answer {base}/health within {timeout:.0f} s")
        time.sleep(0.1)


def stop(proc: subprocess.Popen) -> None:
    """Terminate, then kill if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def running(argv: list[str], base: str, *, cwd: Path = ROOT, env: dict[str, str] | None = None,
            log: Path | None = None, timeout: float = 20.0) -> Iterator[subprocess.Popen]:
    """Start a server process, wait until ``base`` is healthy, stop it afterwards."""
    with open(log, "wb") if log else contextlib.nullcontext(subprocess.DEVNULL) as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=out)
        try:
            wait_healthy(base, proc, timeout)
            yield proc
        finally:
            stop(proc)


@contextlib.contextmanager
def gunicorn(app: str, env: dict[str, str] | None = None, workers: int = 2,
             log: Path | None = None, timeout: float = 20.0) -> Iterator[str]:
    """Run ``gunicorn -c webhook/gunicorn.conf.py APP`` on 127.0.0.1; yields its base URL."""
    port = free_port()
    settings = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port),
                "WEB_CONCURRENCY": str(workers), "PYTHONPATH": str(ROOT), **(env or {})}
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "webhook" / "gunicorn.conf.py"), app]
    with running(argv, base, env=settings, log=log, timeout=timeout):
        yield base
