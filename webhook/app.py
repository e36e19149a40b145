"""The skill as an HTTP service: a Flask app factory.

``POST /alexa`` takes an Alexa request envelope and answers with the response
envelope; ``GET /health`` says the service is up and in which mode.

Production mode (``production_app``, run by ``make serve`` under gunicorn)
verifies every request's signature, certificate chain, timestamp and skill id
before the skill runs, and refuses to start without ``SKILL_ID``. Its other
settings are described in docs/serving.md. Development
mode checks no signatures, and says so loudly at start-up; ``make run`` serves
it through ``simulator.devserver``, which adds the browser page. This package
never imports the simulator.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import quote

from ask_sdk_core.exceptions import SerializationException
from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from skill.appid import WrongApplication, check_application_id, parse_skill_ids
from skill.logs import request_summary, where
from skill.skill import invoke as invoke_skill

if TYPE_CHECKING:  # the verifier pulls in cryptography: only production needs it
    from .verification import Verifier

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # real Alexa requests are a few KiB
MAX_NESTING = 64  # real envelopes nest about ten deep; the SDK recurses per level
REFUSED = "verification failed"  # the one answer to every request that fails verification
DEVELOPMENT, PRODUCTION = "development", "production"
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


class Refused(Exception):
    """A request we refuse with HTTP 400.

    ``reason`` is the answer's body; ``detail`` (default: the reason) goes to
    the log only, so a refusal can be specific for the operator and generic
    for the caller.
    """

    def __init__(self, reason: str, detail: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail or reason


def compact_json(data: Any) -> str:
    """The skill's response as Alexa reads it: compact and unsorted.

    Flask's jsonify sorts keys on every response; nothing here needs that, and
    on a topic answer it cost about a tenth of the webhook's time.
    """
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON; Python's reader accepts them unless told not to."""
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


# Where an unpaired surrogate can come from: a \uD800-\uDFFF escape, or the
# UTF-8-style bytes ED A0-BF that "surrogatepass" lets through.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def parse_body(body: bytes) -> dict[str, Any]:
    """The envelope as a dict, or Refused for anything that is not a JSON object.

    Whatever ``json`` can throw on hostile input is a 400: ValueError (bad
    syntax or encoding, integers past Python's digit limit, NaN) and
    RecursionError (about a thousand nested brackets). Nesting that parses but
    runs deeper than any envelope is refused too, before the SDK recurses on it,
    and so is text that is not Unicode (an unpaired surrogate), which no
    answer could carry back: echoed in a session attribute it made a 500.
    """
    encoding = json.detect_encoding(body)
    try:
        envelope = _DECODER.decode(body.decode(encoding, "surrogatepass"))
    except (ValueError, RecursionError):
        raise Refused("body is not valid JSON") from None
    if not isinstance(envelope, dict):
        raise Refused("body is not a JSON object")
    if not isinstance(envelope.get("request"), dict):
        raise Refused("envelope has no request object")
    if body.count(b"{") + body.count(b"[") > MAX_NESTING and too_deep(envelope, MAX_NESTING):
        raise Refused("body is nested too deeply")
    if (encoding != "utf-8" or b"\xed" in body or _SURROGATE_ESCAPE.search(body)) and not is_unicode(envelope):
        raise Refused("body is not valid Unicode")
    return envelope


def is_unicode(envelope: dict[str, Any]) -> bool:
    """Whether every string in the envelope (keys too) can be written as UTF-8."""
    try:
        json.dumps(envelope, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def too_deep(value: Any, limit: int) -> bool:
    """Whether JSON ``value`` nests deeper than ``limit``; iterative, so it cannot overflow."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def read_body() -> bytes:
    """The raw body, or 413 past MAX_BODY_BYTES.

    With a Content-Length, Werkzeug refuses an oversized body itself. Without
    one (chunked), its limited stream stops at the limit without a word, so the
    app lets one byte more through (MAX_CONTENT_LENGTH) and refuses if it came.
    """
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    return body


# What a log line may say about a request's method and unmatched path: the
# path is percent-encoded and capped, so no byte of it can end the line,
# start a new one, move a terminal's cursor or fake another field.
_METHOD = re.compile(r"[A-Z]{1,16}")
LOGGED_PATH_CHARS = 64


def logged_method(method: str) -> str:
    """The method if it is a plain token (gunicorn checks; werkzeug's server does not), else ``?``."""
    return method if _METHOD.fullmatch(method) else "?"


def logged_path(path: str) -> str:
    """An unmatched path, percent-encoded and capped at LOGGED_PATH_CHARS."""
    encoded = quote(path[:LOGGED_PATH_CHARS], safe="/-._~", errors="replace")
    if len(path) <= LOGGED_PATH_CHARS and len(encoded) <= LOGGED_PATH_CHARS:
        return encoded
    cut = encoded[:LOGGED_PATH_CHARS]
    escape = cut.rfind("%", len(cut) - 2)   # never end on half an escape
    return (cut[:escape] if escape >= 0 else cut) + "..."


class ConfigurationError(RuntimeError):
    """The app cannot start safely as configured."""


def create_app(*, mode: str = DEVELOPMENT, skill_ids: str | None = None,
               invoke: Invoke = invoke_skill, verifier: Verifier | None = None,
               proxy_hops: int = 0, warm_cert_urls: Collection[str] = ()) -> Flask:
    """Build the app.

    ``skill_ids``: comma-separated ids to accept (empty: any, development only).
    ``verifier``: production's request verifier; tests and benchmarks pass one
    with their own trust roots, production builds the default (certifi roots).
    ``proxy_hops``: how many trusted reverse proxies stand in front; the client
    address (whose certificate-fetch budget a request spends) is then read from
    ``X-Forwarded-For``, which is ignored otherwise (anyone can send it).
    ``warm_cert_urls``: certificate chains to fetch at start-up, in the background.
    """
    if mode not in (DEVELOPMENT, PRODUCTION):
        raise ConfigurationError(f"unknown mode {mode!r}")
    if not isinstance(proxy_hops, int) or isinstance(proxy_hops, bool) or proxy_hops < 0:
        raise ConfigurationError("TRUSTED_PROXY_HOPS must be a whole number, 0 or more")
    allowed = parse_skill_ids(skill_ids)
    if mode == PRODUCTION:
        if not allowed:
            raise ConfigurationError("SKILL_ID must be set in production mode")
        if verifier is None:
            from .verification import Verifier
            verifier = Verifier(allowed)
        log.info("production mode: verifying Alexa request signatures for %d skill id(s)", len(allowed))
        if warm_cert_urls:
            threading.Thread(target=verifier.warm, args=(tuple(warm_cert_urls),),
                             name="alexa-cert-warm-up", daemon=True).start()
    else:
        verifier = None
        log.warning("DEVELOPMENT MODE: Alexa request signatures are NOT verified. "
                    "Never expose this server to the internet.")
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES + 1, MODE=mode)
    if proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxy_hops, x_proto=0, x_host=0,  # type: ignore[method-assign]
                                x_port=0, x_prefix=0)

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()
        g.summary, g.outcome = "", "-"

    @app.after_request
    def log_request(response: Response) -> Response:
        if not log.isEnabledFor(logging.INFO):
            return response
        latency = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        rule = request.url_rule
        log.info("%s %s status=%d %s outcome=%s latency_ms=%.1f", logged_method(request.method),
                 rule.rule if rule is not None else logged_path(request.path),
                 response.status_code, g.get("summary", ""), g.get("outcome", "-"), latency)
        return response

    @app.post("/alexa")
    def alexa() -> tuple[Response, int]:
        body = read_body()
        try:
            envelope = parse_body(body)
            if log.isEnabledFor(logging.INFO):  # only the log line reads it
                g.summary = request_summary(envelope)
            if verifier is not None:
                verify(verifier, body, envelope)  # checks the skill id too
            else:
                try:
                    check_application_id(envelope, allowed)
                except WrongApplication as exc:
                    raise Refused(str(exc)) from None
            result = run_skill(invoke, envelope)
        except Refused as exc:
            g.outcome = exc.detail.replace(" ", "_")
            return jsonify(error=exc.reason), 400
        g.outcome = "ok"
        return Response(compact_json(result), status=200, mimetype="application/json")

    @app.get("/health")
    def health() -> tuple[Response, int]:
        return jsonify(status="ok", mode=mode), 200

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        g.outcome = (exc.name or "error").lower().replace(" ", "_")
        answer = jsonify(error=exc.name)
        for name, value in exc.get_headers():  # a 405's Allow, say; the body stays JSON
            if name.lower() != "content-type":
                answer.headers[name] = value
        return answer, exc.code or 500

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> tuple[Response, int]:
        """A bug, not a bad request: logged by type and place (no message, no traceback)."""
        log.error("server error: %s at %s", type(exc).__name__, where(exc))
        g.outcome = "server_error"
        return jsonify(error=InternalServerError().name), 500

    return app


def verify(verifier: Verifier, body: bytes, envelope: dict[str, Any]) -> None:
    """Prove the request came from Alexa for our skill, or refuse it with a 400.

    Every failure gets the same answer, so the body cannot tell a caller which
    check failed (a right skill id with a wrong signature, say); the specific
    reason goes to the request's log line.
    """
    from .verification import VerificationError
    try:
        verifier.verify(request.headers, body, envelope, request.remote_addr)
    except VerificationError as exc:
        raise Refused(REFUSED, f"{REFUSED}: {exc.reason}") from None


def configure_logging() -> None:
    """One line per event on stderr, where gunicorn and container runtimes collect it."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")


def production_app() -> Flask:
    """The gunicorn entry (``webhook.app:production_app()``): settings from the environment.

    ``SKILL_ID`` (required), ``TRUSTED_PROXY_HOPS`` (default 0) and
    ``ALEXA_CERT_WARMUP`` (off by default; ``1`` for ``KNOWN_CERT_URL``, or
    comma-separated certificate URLs), as docs/serving.md explains.
    """
    configure_logging()
    from .replays import share_from_environment
    share_from_environment()   # under gunicorn: one memory of request ids for all workers
    return create_app(mode=PRODUCTION, skill_ids=os.environ.get("SKILL_ID"),
                      proxy_hops=proxy_hops_setting(os.environ.get("TRUSTED_PROXY_HOPS")),
                      warm_cert_urls=warm_up_setting(os.environ.get("ALEXA_CERT_WARMUP")))


def proxy_hops_setting(value: str | None) -> int:
    """``TRUSTED_PROXY_HOPS``: unset or empty is 0; anything but a whole number stops start-up."""
    text = (value or "0").strip()
    if not (text.isascii() and text.isdigit()):
        raise ConfigurationError("TRUSTED_PROXY_HOPS must be a whole number, 0 or more")
    return int(text)


def warm_up_setting(value: str | None) -> tuple[str, ...]:
    """``ALEXA_CERT_WARMUP``: ``1`` is Amazon's documented URL, else a comma-separated list; off when empty or 0."""
    text = (value or "").strip()
    if text in ("", "0"):
        return ()
    if text == "1":
        from .verification import KNOWN_CERT_URL
        return (KNOWN_CERT_URL,)
    return tuple(url.strip() for url in text.split(",") if url.strip())


def run_skill(invoke: Invoke, envelope: dict[str, Any]) -> dict[str, Any]:
    """Run the skill; an envelope the SDK cannot read is the caller's error (400).

    Handler errors never get here (the skill's exception handler answers them).
    The SDK reports an unreadable envelope as SerializationException; anything
    else is our bug: a 500 with a generic body. Either way the log gets the
    exception's type and place, never its message, which can quote request values.
    """
    try:
        return invoke(envelope)
    except SerializationException as exc:
        log.warning("envelope rejected by the SDK: %s at %s", type(exc).__name__, where(exc))
        raise Refused("malformed request envelope") from None
    except Exception as exc:  # logged without its message, answered generically
        log.error("skill failed: %s at %s", type(exc).__name__, where(exc))
        raise InternalServerError() from None
