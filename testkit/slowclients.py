"""Slow and stalled HTTP clients, for the availability test and benchmark (issue 12). Loopback only.

Three kinds, as a security review used them against ``make serve``:

- ``one-byte``: connects, sends one byte of a request, then waits;
- ``head``: sends a request head one line every ``head_every`` seconds, never finishing it;
- ``body``: sends a whole head announcing a body, then one body byte every ``body_every`` seconds.

Each runs in its own thread, records how long each connection lasted before
the server cut it, and reconnects at once, so the pressure holds for as long as
the caller wants.
"""
from __future__ import annotations

import contextlib
import itertools
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator
from urllib.parse import urlsplit

import requests

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass
class SlowClient:
    """One attacker slot: a connection of one kind, reopened whenever the server cuts it."""

    kind: str
    cuts: list[float] = field(default_factory=list)  # how long each cut connection lasted
    error: str | None = None


def _cut(sock: socket.socket, wait: float) -> bool:
    """Wait up to ``wait`` s; True once the server has closed the connection."""
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([sock], [], [], left)
        if not readable:
            return False
        try:
            if not sock.recv(4096):  # an answer (say a 400) may come first; the close follows
                return True
        except OSError:
            return True
    return False


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def _steps(kind: str, head_every: float, body_every: float) -> tuple[Iterator[bytes], float]:
    """What one connection of ``kind`` sends, and how often."""
    host = b"Host: 127.0.0.1\r\n"
    if kind == "one-byte":
        return iter([b"P"]), 0.5
    if kind == "head":
        pads = (b"X-Pad-%d: x\r\n" % i for i in range(10_000))
        return itertools.chain([b"POST /alexa HTTP/1.1\r\n", host], pads), head_every
    head = (b"POST /alexa HTTP/1.1\r\n" + host + b"Content-Type: application/json\r\n"
            b"Content-Length: 4096\r\n\r\n")
    return itertools.chain([head], itertools.repeat(b" ", 4096)), body_every


def _run(client: SlowClient, address: tuple[str, int], stop: threading.Event,
         head_every: float, body_every: float) -> None:
    try:
        while not stop.is_set():
            with socket.create_connection(address, timeout=5) as sock:
                opened = time.monotonic()
                steps, every = _steps(client.kind, head_every, body_every)
                due = opened
                while not stop.is_set():
                    if time.monotonic() >= due:
                        data, due = next(steps, None), due + every
                        if data is not None and not _send(sock, data):
                            client.cuts.append(time.monotonic() - opened)
                            break
                    if _cut(sock, min(0.25, max(0.0, due - time.monotonic()))):
                        client.cuts.append(time.monotonic() - opened)
                        break
    except Exception as exc:
        client.error = type(exc).__name__


@contextlib.contextmanager
def slow_clients(base: str, *, one_byte: int = 8, heads: int = 16, bodies: int = 8,
                 head_every: float = 3.0, body_every: float = 1.0) -> Iterator[list[SlowClient]]:
    """Keep that many slow connections open against ``base`` (loopback) until exit.

    A connection the server cuts is replaced at once, as an attacker would.
    """
    parts = urlsplit(base)
    if parts.hostname not in LOOPBACK or parts.port is None:
        raise ValueError("slow clients go to a loopback port only")
    stop = threading.Event()
    clients, threads = [], []
    try:
        for kind, count in (("one-byte", one_byte), ("head", heads), ("body", bodies)):
            for _ in range(count):
                client = SlowClient(kind)
                clients.append(client)
                thread = threading.Thread(target=_run, daemon=True, name=f"slow-{kind}",
                                          args=(client, (parts.hostname, parts.port), stop,
                                                head_every, body_every))
                threads.append(thread)
                thread.start()
        yield clients
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)


def probe(base: str, seconds: float, signed: Callable[[], requests.Response],
          every: float = 0.2) -> dict[str, list[float]]:
    """Time ``GET /health`` and one signed request, in turn, for ``seconds``.

    Each on a new connection, as a new Alexa request would arrive. A failure
    or a non-200 answer counts as infinitely slow.
    """
    timings: dict[str, list[float]] = {"health": [], "signed": []}
    calls = {"health": lambda: requests.get(f"{base}/health", timeout=5), "signed": signed}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, call in calls.items():
            started = time.monotonic()
            try:
                ok = call().status_code == 200
            except requests.RequestException:
                ok = False
            timings[name].append(time.monotonic() - started if ok else float("inf"))
        time.sleep(every)
    return timings
