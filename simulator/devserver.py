"""The development server (``make run``): the webhook in development mode plus the browser page.

The simulator wraps the host, never the reverse: ``webhook.app`` builds the
same app production runs (without signature checks), and this module mounts
the page at ``GET /`` on top of it.

Nothing here is verified, so it must answer only its own page and local
tools, never a web page the developer happens to have open. A page elsewhere
can make the browser send a "simple" cross-origin POST (text/plain, no
preflight), or rebind a DNS name of its own to 127.0.0.1. So every request
must name this server in ``Host`` (127.0.0.1, localhost or [::1] with its
port), must not carry a foreign ``Origin``, and a POST must be
``Content-Type: application/json`` (which a browser sends cross-origin only
after a preflight this server never grants). And the skill in this process
calls Alexa's API only on loopback HTTP, where simulators serve their
stand-in (``skill.api_client.local_apis_only``).
"""
from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys
from typing import Any, Callable, TextIO

from collections.abc import Collection

from flask import Flask, Response, g, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

from skill import api_client

from skill.appid import parse_skill_ids
from skill.skill import invoke as invoke_skill
from webhook.app import DEVELOPMENT, configure_logging, create_app

from .web import create_blueprint


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def local_hosts(host: str, port: int) -> frozenset[str]:
    """The ``Host`` values that name a server bound to ``host``:``port`` (lower case)."""
    names = {*LOOPBACK_NAMES, f"[{host}]" if ":" in host else host}
    hosts = {f"{name}:{port}".lower() for name in names}
    return frozenset(hosts | ({name.lower() for name in names} if port == 80 else set()))


def create_dev_app(skill_ids: str | None = None,
                   invoke: Callable[[dict[str, Any]], dict[str, Any]] = invoke_skill, *,
                   hosts: Collection[str] | None = None) -> Flask:
    """The development webhook with the browser simulator mounted.

    ``hosts``: the ``Host`` values to answer (``local_hosts``); ``None`` skips
    that one check (the Flask test client names no real host). The Origin and
    Content-Type checks always apply.
    """
    app = create_app(mode=DEVELOPMENT, skill_ids=skill_ids, invoke=invoke)
    app.register_blueprint(create_blueprint(invoke, skill_id=min(parse_skill_ids(skill_ids), default=None)))
    allowed = None if hosts is None else frozenset(h.lower() for h in hosts)

    @app.before_request
    def only_local_callers() -> tuple[Response, int] | None:
        refusal = local_refusal(request.host, request.headers.get("Origin"), request.method,
                                request.mimetype, allowed)
        if refusal is None:
            return None
        status, reason, outcome = refusal
        g.outcome = outcome
        return jsonify(error=reason), status

    return app


def local_refusal(host: str, origin: str | None, method: str, mimetype: str,
                  hosts: frozenset[str] | None) -> tuple[int, str, str] | None:
    """(status, answer, log outcome) for a request the dev server must not serve, else None."""
    if hosts is not None and host.lower() not in hosts:
        return 400, "unknown Host: open this server as http://127.0.0.1:PORT", "foreign_host"
    if origin is not None and origin.lower() != f"http://{host}".lower():
        return 403, "requests from other sites are refused", "foreign_origin"
    if method == "POST" and mimetype != "application/json":
        return 400, "send a JSON object with content-type application/json", "not_json"
    return None


def banner(base: str) -> str:
    """What a newcomer needs first: where to talk to it, and that it is not for the internet."""
    return (f"Development server is up.\n"
            f"  Talk to it:  open {base}/ in a browser\n"
            f"  Or ask here: make ask Q=\"what is psa\"\n"
            f"  For tools:   POST Alexa request envelopes to {base}/alexa\n"
            f"  Not for the internet: requests are not verified, so keep it on 127.0.0.1. "
            f"Ctrl-C stops it.\n")


def busy_port_message(port: int) -> str:
    """A busy port names the fix (``PORT=``), not only the problem."""
    return (f"error: port {port} is already in use (another `make run`?). "
            f"Stop that program, or start on another port: make run PORT={port + 1}")


def _not_ready(_environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting\n"]


def bind(host: str, port: int) -> BaseWSGIServer:
    """Take the port before anything is printed, so a busy port is the first (and only) thing said.

    The socket is bound here rather than by werkzeug, which prints its own advice
    and exits on a busy port.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as http.server does
        sock.bind((host, port))
        sock.listen(128)
        return make_server(host, port, _not_ready, threaded=True, fd=sock.fileno())


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """``python -m simulator.devserver``: serve on loopback for local testing only."""
    parser = argparse.ArgumentParser(description="Development webhook and browser simulator for the skill.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    try:
        server = bind(args.host, args.port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
            return 1
        print(busy_port_message(args.port), file=sys.stderr)
        return 1
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(banner(f"http://{host}:{server.socket.getsockname()[1]}"), file=out, flush=True)
    configure_logging()
    # The app logs one line per request (webhook.app); werkzeug would log each a second time.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    api_client.local_apis_only()   # this process's skill: Alexa's API on loopback only
    port = server.socket.getsockname()[1]
    server.app = create_dev_app(os.environ.get("SKILL_ID"), hosts=local_hosts(args.host, port))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped", file=out)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
