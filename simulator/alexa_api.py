"""A stand-in for Alexa's REST API on loopback: reminders and the device's time zone.

A skill calls Alexa's API at the request's ``context.System.apiEndpoint``
with ``apiAccessToken`` as a bearer token. The simulator writes this server's
address and tokens into every envelope, so the skill makes the very same HTTP
calls, whether it runs in process or behind ``--url`` (``make run``).

- ``POST /v1/alerts/reminders`` checks the bearer token (401 when unknown,
  403 when the user has not granted the reminders permission) and the body's
  shape as Amazon's Reminders API reference documents it (400 with a ``code``),
  then answers 201 with an ``alertToken``. ``reminders_status`` forces another
  status; ``"timeout"`` holds the answer for ``hold_s`` seconds instead.
- ``GET /v2/devices/{deviceId}/settings/System.timeZone`` answers that
  device's IANA zone as a JSON string: the one ``set_time_zone`` gave it (the
  browser page sets each page's device), else the configured default.

Tokens are ``<granted|none>.<user key>.<mac>``: like Alexa's, a token says
which permissions its request carried, so the API needs no session state.
Reminders accepted are kept per user key until ``take`` collects them.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sys
import threading
import time
import uuid
from collections import OrderedDict
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from skill import api_client

__all__ = ["AlexaApi", "REMINDERS_PATH", "TIMEOUT", "UNSUPPORTED", "check_reminder", "parse_status",
           "valid_time_zone", "user_key"]

REMINDERS_PATH = "/v1/alerts/reminders"
TIME_ZONE_PATH = re.compile(r"^/v2/devices/([^/]{1,256})/settings/System\.timeZone$")
TIMEOUT = "timeout"            # hold the answer until the skill gives up
UNSUPPORTED = "unsupported"    # answer 400 DEVICE_NOT_SUPPORTED: a device without reminders
MAX_BODY = 16 * 1024
HOLD_STEP_S = 0.02   # how often a held answer looks whether stop() was called
MAX_DEVICES = 1024   # device time zones kept (one per open page); the oldest go first
TRIGGER_TYPES = ("SCHEDULED_ABSOLUTE", "SCHEDULED_RELATIVE")
PUSH_STATUSES = ("ENABLED", "DISABLED")
LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$")   # no offset: wall time
STATUS_CODES = {400: "INVALID_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                429: "TOO_MANY_REQUESTS", 500: "INTERNAL_SERVER_ERROR", 503: "SERVICE_UNAVAILABLE",
                504: "GATEWAY_TIMEOUT"}


def valid_time_zone(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return True


def parse_status(text: str) -> int | str:
    """``--reminders-status``: an HTTP status code, ``timeout`` or ``unsupported``."""
    if text in (TIMEOUT, UNSUPPORTED):
        return text
    try:
        code = int(text)
    except ValueError:
        code = 0
    if not 100 <= code <= 599:
        raise ValueError(f"{text!r} is not an HTTP status code, {TIMEOUT!r} or {UNSUPPORTED!r}")
    return code


def user_key(user_id: str) -> str:
    """A short stable key for a user id, so tokens and logs never carry the id itself."""
    return hashlib.sha256(user_id.encode()).hexdigest()[:16]


def _parse_local(text: Any) -> datetime | None:
    if not isinstance(text, str) or not LOCAL_TIME.match(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def check_reminder(body: Any, now: datetime) -> tuple[str, str] | None:
    """``(code, message)`` for a body the Reminders API would refuse with 400, else None."""
    if not isinstance(body, dict):
        return "INVALID_REQUEST", "body must be a JSON object"
    if _parse_local(body.get("requestTime")) is None:
        return "INVALID_REQUEST_TIME", "requestTime must be an ISO 8601 time"
    trigger = body.get("trigger")
    if not isinstance(trigger, dict) or trigger.get("type") not in TRIGGER_TYPES:
        return "INVALID_TRIGGER", f"trigger.type must be one of {', '.join(TRIGGER_TYPES)}"
    if trigger["type"] == "SCHEDULED_ABSOLUTE":
        scheduled = _parse_local(trigger.get("scheduledTime"))
        if scheduled is None:
            return "INVALID_TRIGGER", "trigger.scheduledTime must be a local time with no offset"
        zone = trigger.get("timeZoneId")
        if zone is not None and (not isinstance(zone, str) or not valid_time_zone(zone)):
            return "INVALID_TIMEZONE", "trigger.timeZoneId must be an IANA time zone"
        if zone and scheduled.replace(tzinfo=ZoneInfo(zone)) <= now:
            return "INVALID_TRIGGER", "trigger.scheduledTime is in the past"
    else:
        offset = trigger.get("offsetInSeconds")
        if not isinstance(offset, int) or isinstance(offset, bool) or offset <= 0:
            return "INVALID_TRIGGER", "trigger.offsetInSeconds must be a positive whole number"
    content = ((body.get("alertInfo") or {}).get("spokenInfo") or {}).get("content") \
        if isinstance(body.get("alertInfo"), dict) else None
    if not (isinstance(content, list) and content and all(
            isinstance(c, dict) and isinstance(c.get("locale"), str)
            and ((isinstance(c.get("text"), str) and c["text"].strip()) or isinstance(c.get("ssml"), str))
            for c in content)):
        return "INVALID_ALERT_INFO", "alertInfo.spokenInfo.content must list {locale, text}"
    push = body.get("pushNotification")
    if push is not None and (not isinstance(push, dict) or push.get("status") not in PUSH_STATUSES):
        return "INVALID_PUSH_NOTIFICATION", "pushNotification.status must be ENABLED or DISABLED"
    return None


class AlexaApi:
    """The local API server; ``with AlexaApi() as api:`` runs it on 127.0.0.1 in a thread."""

    def __init__(self, *, time_zone: str = "UTC", reminders_status: int | str | None = None,
                 hold_s: float = 10.0, clock: Callable[[], datetime] | None = None) -> None:
        if not valid_time_zone(time_zone):
            raise ValueError(f"unknown time zone {time_zone!r}: use an IANA name such as America/Chicago")
        if reminders_status not in (None, TIMEOUT, UNSUPPORTED) and not (
                isinstance(reminders_status, int) and 100 <= reminders_status <= 599):
            raise ValueError("reminders status must be an HTTP status code, 'timeout' or 'unsupported'")
        self.time_zone = time_zone
        self.reminders_status = reminders_status
        self.hold_s = hold_s
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._accepted: dict[str, list[dict[str, Any]]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._stopping = threading.Event()   # wakes a held answer when the server stops
        self._zones: OrderedDict[str, str] = OrderedDict()   # device id -> its own time zone
        self.calls: list[tuple[str, str, int]] = []     # (method, path kind, status): for tests

    # ------------------------------------------------------------ life cycle
    def start(self) -> "AlexaApi":
        """Serve, and let this process's skill call this server (``skill.api_client.allow_local_api``)."""
        if self._server is None:
            self._stopping.clear()
            self._server = _Server(("127.0.0.1", 0), _handler_class(self))
            # A short poll: stop() (and so every CLI run's exit) waits at most this long, not 0.5 s.
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                             name="alexa-api", daemon=True).start()
            api_client.allow_local_api(self.endpoint)
        return self

    def hold(self) -> None:
        """Hold an answer for ``hold_s`` seconds, or until stop().

        Short sleeps, not ``Event.wait(hold_s)``: under libfaketime (make test-clock) a timed
        wait on a lock is given a deadline on the shifted clock and, a year ahead, never wakes.
        """
        deadline = time.monotonic() + self.hold_s
        while not self._stopping.is_set() and time.monotonic() < deadline:
            time.sleep(HOLD_STEP_S)

    def stop(self) -> None:
        if self._server is not None:
            self._stopping.set()
            api_client.forget_local_api(self.endpoint)
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "AlexaApi":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """The ``apiEndpoint`` to put in envelopes (starts the server if needed)."""
        server = self.start()._server
        assert server is not None
        host, port = server.server_address[:2]
        return f"http://{host}:{port}"

    # ------------------------------------------------------------ device settings
    def set_time_zone(self, device_id: str, zone: str) -> None:
        """Give one device its own time zone, as a user does in the Alexa app."""
        if not valid_time_zone(zone):
            raise ValueError(f"unknown time zone {zone!r}: use an IANA name such as America/Chicago")
        with self._lock:
            self._zones[device_id] = zone
            self._zones.move_to_end(device_id)
            while len(self._zones) > MAX_DEVICES:
                self._zones.popitem(last=False)

    def time_zone_of(self, device_id: str) -> str:
        with self._lock:
            return self._zones.get(device_id, self.time_zone)

    # ------------------------------------------------------------ tokens and reminders
    def _mac(self, body: str) -> str:
        return hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()[:32]

    def token(self, key: str, granted: bool) -> str:
        """An ``apiAccessToken`` for user ``key``, carrying whether reminders are allowed."""
        body = f"{'granted' if granted else 'none'}.{key}"
        return f"{body}.{self._mac(body)}"

    def read_token(self, header: str | None) -> tuple[str, bool] | None:
        """(user key, granted) from an ``Authorization: Bearer`` header we issued, else None."""
        if not header or not header.startswith("Bearer "):
            return None
        parts = header[len("Bearer "):].strip().split(".")
        if len(parts) != 3 or parts[0] not in ("granted", "none"):
            return None
        if not hmac.compare_digest(parts[2], self._mac(f"{parts[0]}.{parts[1]}")):
            return None
        return parts[1], parts[0] == "granted"

    def take(self, key: str) -> list[dict[str, Any]]:
        """The reminders accepted for user ``key`` since the last take."""
        with self._lock:
            return self._accepted.pop(key, [])

    def _accept(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        trigger = body["trigger"]
        record = {"text": body["alertInfo"]["spokenInfo"]["content"][0].get("text", ""),
                  "scheduled": (_parse_local(trigger.get("scheduledTime")).isoformat()   # type: ignore[union-attr]
                                if trigger["type"] == "SCHEDULED_ABSOLUTE" else None),
                  "time_zone": trigger.get("timeZoneId") or self.time_zone}
        with self._lock:
            self._accepted.setdefault(key, []).append(record)
        return record


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (the skill's time-out, a test ending) is normal here, not a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_class(api: AlexaApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "AlexaApiSimulator/1"
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:   # tokens travel in headers: log nothing
            pass

        def _answer(self, status: int, payload: Any, kind: str) -> None:
            api.calls.append((self.command, kind, status))
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, kind: str, code: str | None = None, message: str = "") -> None:
            self._answer(status, {"code": code or STATUS_CODES.get(status, "ERROR"),
                                  "message": message or self.responses.get(status, ("",))[0]}, kind)

        def do_GET(self) -> None:
            match = TIME_ZONE_PATH.match(self.path.split("?", 1)[0])
            if not match:
                return self._error(404, "unknown")
            if api.read_token(self.headers.get("Authorization")) is None:
                return self._error(401, "time_zone")
            self._answer(200, api.time_zone_of(match[1]), "time_zone")

        def do_POST(self) -> None:
            if self.path.split("?", 1)[0] != REMINDERS_PATH:
                return self._error(404, "unknown")
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                return self._error(400, "reminder", "INVALID_REQUEST", "body too large or unsized")
            raw = self.rfile.read(length)
            if api.reminders_status == TIMEOUT:
                api.hold()   # the skill gives up first; stop() ends the wait
                return self._error(504, "reminder")
            if api.reminders_status == UNSUPPORTED:
                return self._error(400, "reminder", "DEVICE_NOT_SUPPORTED", "this device does not support reminders")
            if isinstance(api.reminders_status, int):
                status = api.reminders_status
                if 200 <= status < 300:
                    return self._answer(status, {"alertToken": str(uuid.uuid4())}, "reminder")
                return self._error(status, "reminder")
            token = api.read_token(self.headers.get("Authorization"))
            if token is None:
                return self._error(401, "reminder")
            key, granted = token
            if not granted:
                return self._error(403, "reminder", message="the user has not granted the reminders permission")
            if "json" not in (self.headers.get("Content-Type") or ""):
                return self._error(400, "reminder", "INVALID_REQUEST", "Content-Type must be application/json")
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                return self._error(400, "reminder", "INVALID_REQUEST", "body is not JSON")
            problem = check_reminder(body, api.clock())
            if problem:
                return self._error(400, "reminder", *problem)
            api._accept(key, body)
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            alert = str(uuid.uuid4())
            self._answer(201, {"alertToken": alert, "createdTime": stamp, "updatedTime": stamp,
                               "status": "ON", "version": "1", "href": f"{REMINDERS_PATH}/{alert}"},
                         "reminder")

    return Handler
