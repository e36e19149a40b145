"""The skill as an HTTP service: a Flask app factory.

``POST /alexa`` takes an Alexa request envelope and answers with the response
envelope; ``GET /health`` says the service is up and in which mode.

Production mode (``production_app``, run by ``make serve`` under gunicorn)
verifies every request's signature, certificate chain, timestamp and skill id
before the skill runs, and refuses to start without ``SKILL_ID``. Development
mode checks no signatures, and says so loudly at start-up; ``make run`` serves
it through ``simulator.devserver``, which adds the browser page. This package
never imports the simulator.
"""
from __future__ import annotations

import json
import logging
import os
import time
from typing import TYPE_CHECKING, Any, Callable

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from skill.appid import WrongApplication, check_application_id, parse_skill_ids
from skill.logs import request_summary
from skill.skill import invoke as invoke_skill

if TYPE_CHECKING:  # the verifier pulls in cryptography: only production needs it
    from .verification import Verifier

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # real Alexa requests are a few KiB
DEVELOPMENT, PRODUCTION = "development", "production"
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


class BadRequest(Exception):
    """A request we refuse with HTTP 400; ``reason`` is safe to log and return."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def compact_json(data: Any) -> str:
    """The skill's response as Alexa reads it: compact and unsorted.

    Flask's jsonify sorts keys on every response; nothing here needs that, and
    on a topic answer it cost about a tenth of the webhook's time.
    """
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def parse_body(body: bytes) -> dict[str, Any]:
    """The envelope as a dict, or BadRequest for anything that is not a JSON object."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body is not valid JSON") from None
    if not isinstance(envelope, dict):
        raise BadRequest("body is not a JSON object")
    if not isinstance(envelope.get("request"), dict):
        raise BadRequest("envelope has no request object")
    return envelope


class ConfigurationError(RuntimeError):
    """The app cannot start safely as configured."""


def create_app(*, mode: str = DEVELOPMENT, skill_ids: str | None = None,
               invoke: Invoke = invoke_skill, verifier: Verifier | None = None) -> Flask:
    """Build the app.

    ``skill_ids``: comma-separated ids to accept (empty: any, development only).
    ``verifier``: production's request verifier; tests and benchmarks pass one
    with their own trust roots, production builds the default (certifi roots).
    """
    if mode not in (DEVELOPMENT, PRODUCTION):
        raise ConfigurationError(f"unknown mode {mode!r}")
    allowed = parse_skill_ids(skill_ids)
    if mode == PRODUCTION:
        if not allowed:
            raise ConfigurationError("SKILL_ID must be set in production mode")
        if verifier is None:
            from .verification import Verifier
            verifier = Verifier(allowed)
        log.info("production mode: verifying Alexa request signatures for %d skill id(s)", len(allowed))
    else:
        verifier = None
        log.warning("DEVELOPMENT MODE: Alexa request signatures are NOT verified. "
                    "Never expose this server to the internet.")
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, MODE=mode)

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()
        g.summary, g.outcome = "", "-"

    @app.after_request
    def log_request(response: Response) -> Response:
        if not log.isEnabledFor(logging.INFO):
            return response
        latency = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info("%s %s status=%d %s outcome=%s latency_ms=%.1f", request.method, request.path,
                 response.status_code, g.get("summary", ""), g.get("outcome", "-"), latency)
        return response

    @app.post("/alexa")
    def alexa() -> tuple[Response, int]:
        body = request.get_data(cache=False)
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
                    raise BadRequest(str(exc)) from None
            result = run_skill(invoke, envelope)
        except BadRequest as exc:
            g.outcome = exc.reason.replace(" ", "_")
            return jsonify(error=exc.reason), 400
        g.outcome = "ok"
        return Response(compact_json(result), status=200, mimetype="application/json")

    @app.get("/health")
    def health() -> tuple[Response, int]:
        return jsonify(status="ok", mode=mode), 200

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        g.outcome = (exc.name or "error").lower().replace(" ", "_")
        return jsonify(error=exc.name), exc.code or 500

    return app


def verify(verifier: Verifier, body: bytes, envelope: dict[str, Any]) -> None:
    """Prove the request came from Alexa for our skill, or refuse it with a 400."""
    from .verification import VerificationError
    try:
        verifier.verify(request.headers, body, envelope)
    except VerificationError as exc:
        raise BadRequest(f"verification failed: {exc.reason}") from None


def configure_logging() -> None:
    """One line per event on stderr, where gunicorn and container runtimes collect it."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")


def production_app() -> Flask:
    """The gunicorn entry (``webhook.app:production_app()``): settings from the environment."""
    configure_logging()
    return create_app(mode=PRODUCTION, skill_ids=os.environ.get("SKILL_ID"))


def run_skill(invoke: Invoke, envelope: dict[str, Any]) -> dict[str, Any]:
    """Run the skill; an envelope the SDK cannot even read is the caller's error.

    Handler errors never get here (the skill's exception handler answers them),
    so whatever escapes comes from a malformed envelope: a 400, not a 500.
    """
    try:
        return invoke(envelope)
    except Exception as exc:  # noqa: BLE001 - every escape is a malformed request
        log.warning("envelope rejected by the SDK: %s", type(exc).__name__)
        raise BadRequest("malformed request envelope") from None
