"""The gunicorn worker behind ``make serve`` and the container: slow clients cost a greenlet, not a thread.

gunicorn's gthread worker lends a thread to a connection from its first byte
until the request has been read, and reads headers and body with no deadline:
eight connections that each sent one byte held every thread of a 2 x 4 server.
This is gunicorn's gevent worker (one greenlet per connection, a few KiB
each, up to ``worker_connections``), with three deadlines of its own:

- the request line and headers must arrive within ``HEAD_SECONDS`` of the
  connection opening, or of the previous response on a kept-alive one;
- the body must then arrive within ``BODY_SECONDS``. It is read into memory
  (at most ``MAX_BODY_BYTES`` + 1 bytes) before the app runs, so the app never
  waits on a client and a chunked body past the limit reaches it visibly
  oversized (the app answers 413);
- every write of an answer must be taken by the client within
  ``SEND_SECONDS``. A client that pipelines requests and never reads their
  answers fills the socket buffers, and the write then waits; without this
  deadline it waited forever, holding the connection and its greenlet.

A connection that misses a deadline is closed, and the cut is logged. Neither
these lines nor gunicorn's own about malformed requests carry the client's
address. A request thus has at most ``HEAD_SECONDS + BODY_SECONDS`` to
arrive, whatever it trickles, and a reader at most ``SEND_SECONDS`` per write.
"""
from __future__ import annotations

import contextlib
import io
import logging
from typing import Any, Iterator

import gevent
from gevent.local import local
from gunicorn.http.body import LengthReader
from gunicorn.workers.ggevent import GeventWorker

from .app import MAX_BODY_BYTES

HEAD_SECONDS = 5.0
BODY_SECONDS = 10.0
# An answer is a few KiB, which the socket buffers take at once from any
# client that reads at all; only one that stopped reading ever waits here.
SEND_SECONDS = 5.0
DRAIN_BYTES = 4 * 1024 * 1024  # read past an oversized body, at most, before closing

log = logging.getLogger(__name__)


class _SendMissed(StopIteration):
    """A write was not taken within SEND_SECONDS. A StopIteration, so gunicorn
    passes it up untouched (as it does its own "close the connection")."""


class _Tally:
    """The client socket, counting bytes received (tells a slow client from an
    idle one) and giving every write SEND_SECONDS."""

    __slots__ = ("_sock", "received")

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self.received = 0

    def recv(self, size: int, *flags: int) -> bytes:
        data = self._sock.recv(size, *flags)
        self.received += len(data)
        return data

    def sendall(self, data: bytes, *flags: int) -> None:
        with gevent.Timeout(SEND_SECONDS, _SendMissed):
            self._sock.sendall(data, *flags)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class SlowClientWorker(GeventWorker):
    """gunicorn's gevent worker with a deadline for receiving each request (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connection = local()  # this greenlet's client socket
        self._open = 0  # connections this worker holds

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        self._connection.sock = _Tally(client)
        self._open += 1
        try:
            super().handle(listener, self._connection.sock, addr)
        finally:
            self._open -= 1

    def timeout_ctx(self) -> _HeadDeadline:
        """Wraps the reading of each request's head (gunicorn's keep-alive loop)."""
        return _HeadDeadline(self._connection.sock)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """gunicorn's answer and log line for a malformed request, without the client's address."""
        super().handle_error(req, client, ("-", 0), exc)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> bool:
        try:
            return self._handle_request(listener_name, req, sock, addr)
        except _SendMissed:
            log.warning("cut a client that does not read: an answer not taken after %.0f s", SEND_SECONDS)
            raise StopIteration("send deadline") from None

    def _handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> bool:
        oversized = self._buffer_body(req, sock)
        if oversized is None:
            log.warning("cut a slow client: request body incomplete after %.0f s", BODY_SECONDS)
            raise StopIteration("body deadline")  # gunicorn closes the connection
        kept = super().handle_request(listener_name, req, sock, addr)
        if oversized:
            # The app answered 413. Read a little of the rest so the client
            # sees that answer rather than a reset, then close: what is left
            # must never be read as the next request.
            with contextlib.suppress(Exception), _deadline(HEAD_SECONDS):
                for _ in range(DRAIN_BYTES // 65536):
                    if not req.body.read(65536):
                        break
                    gevent.sleep(0)  # a fast sender must not starve other connections
            raise StopIteration("body over the limit")
        # Take turns. A kept-alive client's next request is often in the socket
        # before we read it, so a greenlet would serve the same connection again
        # and again without yielding while the others wait: under wrk at
        # concurrency 32 that left p50 at 2 ms but p99 over a second, with 2 s
        # timeouts. idle() resumes only after the loop has polled the other
        # sockets (sleep(0) does not wait for that and measured little better).
        if self._open > 1:
            gevent.idle()
        return kept

    def _buffer_body(self, req: Any, sock: Any) -> bool | None:
        """Read the whole body before the app runs; None if it missed its deadline.

        Returns whether the body is over the limit. One that announces more
        than the limit is left unread: the app refuses it by its Content-Length.
        The bytes read go back into gunicorn's body buffer, where the app reads
        them without touching the socket.
        """
        body = req.body
        announced = isinstance(body.reader, LengthReader) and body.reader.length > MAX_BODY_BYTES + 1
        # gunicorn answers "Expect: 100-continue" as it builds the environ, after
        # this read: too late for a client that waits for it. Answer it here, or
        # not at all for a body that will be refused anyway.
        if req._expected_100_continue and not announced:
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        req._expected_100_continue = False
        if announced:
            return True
        try:
            with _deadline(BODY_SECONDS):
                data = body.read(MAX_BODY_BYTES + 1)
        except _Missed:
            return None
        rest = body.buf.getvalue()
        body.buf = io.BytesIO()
        body.buf.write(data + rest)
        return len(data) > MAX_BODY_BYTES


class _HeadDeadline:
    """HEAD_SECONDS for a request head. On expiry the head is left unread and
    gunicorn closes the connection; a class, not a generator, as it runs per request."""

    __slots__ = ("_before", "_sock", "_timer")

    def __init__(self, sock: _Tally) -> None:
        self._sock = sock
        self._before = sock.received
        self._timer = gevent.Timeout(HEAD_SECONDS)

    def __enter__(self) -> None:
        self._timer.start()

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        self._timer.close()
        if exc is not self._timer:
            return False
        if self._sock.received > self._before:  # idle kept-alive connections end here too, quietly
            log.warning("cut a slow client: request head incomplete after %.0f s", HEAD_SECONDS)
        return True


class _Missed(Exception):
    """A deadline passed."""


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise _Missed if the block takes longer than ``seconds`` (only this timer, no other)."""
    timer = gevent.Timeout(seconds)
    timer.start()
    try:
        yield
    except gevent.Timeout as exc:
        if exc is not timer:
            raise
        raise _Missed() from None
    finally:
        timer.close()
