"""The HTTP client ask-sdk's service clients (reminders, settings) call Alexa's APIs through.

ask-sdk-core's ``DefaultApiClient`` calls ``requests`` with no time-out, so a
stalled Alexa API would hold the skill past the 8 seconds Alexa waits for an
answer; this client gives every call a connect and a read time-out. It also
imports ``requests`` only on its first call: that import costs about 0.1 s,
and the many requests that never reach an Alexa API should not pay it on a
cold start (measure: ``python3.12 -X importtime -c "import lambda_handler"``).

Which endpoints it calls (``allowed_url``) does not rest on the request's
signature alone: ``apiEndpoint`` must be one of Amazon's documented API hosts
over HTTPS, or the local stand-in for Alexa's API that a simulator runs in this
same process (``simulator/alexa_api.py`` registers it with
``allow_local_api``). The development server's process instead calls only
plain HTTP on loopback, where simulators serve that stand-in
(``local_apis_only``): its requests are unsigned and carry no real token, so
nothing of theirs should reach Amazon, or anything else.
"""
from __future__ import annotations

import ipaddress
import json
import threading
from typing import Any
from urllib.parse import urlsplit

from ask_sdk_model.services import ApiClient, ApiClientRequest, ApiClientResponse

# Two calls make a reminder (time zone, then create): at most 2 x 2.5 s, well
# inside the 8 s Alexa waits, with room left to answer.
CONNECT_TIMEOUT_S = 1.0
READ_TIMEOUT_S = 1.5
METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH"})


class ApiCallFailed(Exception):
    """The call got no HTTP answer; ``kind`` says why ("timeout", "unreachable", "refused")."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


# The hosts Amazon's Reminders API reference lists for context.System.apiEndpoint
# (North America, Europe, Far East; developer.amazon.com/docs/smapi/alexa-reminders-api-reference.html).
ALEXA_API_HOSTS = frozenset({"api.amazonalexa.com", "api.eu.amazonalexa.com", "api.fe.amazonalexa.com"})

_local_apis: set[tuple[str, int]] = set()   # (host, port) of simulator APIs running in this process
_local_lock = threading.Lock()
_loopback_only = False


def _origin(endpoint: str) -> tuple[str, int]:
    parts = urlsplit(endpoint)
    if parts.scheme != "http" or not parts.hostname or parts.port is None:
        raise ValueError("a local Alexa API is http://HOST:PORT")
    return parts.hostname, parts.port


def allow_local_api(endpoint: str) -> None:
    """Let this process's skill call the local Alexa API at ``endpoint`` (``http://127.0.0.1:PORT``)."""
    with _local_lock:
        _local_apis.add(_origin(endpoint))


def forget_local_api(endpoint: str) -> None:
    """The local API at ``endpoint`` has stopped."""
    with _local_lock:
        _local_apis.discard(_origin(endpoint))


def local_apis_only() -> None:
    """For the development server's process: plain HTTP on loopback only, never Amazon or elsewhere."""
    global _loopback_only
    _loopback_only = True


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_url(url: str) -> bool:
    """Whether the skill may call ``url`` with the request's bearer token (see the module)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return False
    host = parts.hostname
    if not host or parts.username is not None or parts.password is not None:
        return False
    if _loopback_only:
        return parts.scheme == "http" and _is_loopback(host)
    if parts.scheme == "https":
        return host in ALEXA_API_HOSTS and port in (None, 443)
    return parts.scheme == "http" and port is not None and (host, port) in _local_apis


def _headers(pairs: list[tuple[str, str]] | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in pairs or []:
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


class TimeoutApiClient(ApiClient):
    """``ApiClient`` over one pooled ``requests.Session``, every call bounded in time."""

    def __init__(self, connect_timeout: float = CONNECT_TIMEOUT_S, read_timeout: float = READ_TIMEOUT_S):
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._session: Any = None

    def _http(self) -> Any:
        if self._session is None:
            import requests  # deferred: see the module docstring
            self._session = requests.Session()
            self._session.trust_env = False   # no proxies or netrc from the environment
        return self._session

    def invoke(self, request: ApiClientRequest) -> ApiClientResponse:
        """Send one request; raise ApiCallFailed when no HTTP answer came back in time."""
        import requests

        method = (request.method or "").upper()
        if method not in METHODS or not allowed_url(request.url or ""):
            raise ApiCallFailed("refused")
        headers = _headers(request.headers)
        body = request.body
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        try:
            reply = self._http().request(method, request.url, headers=headers, data=body or None,
                                         timeout=(self.connect_timeout, self.read_timeout),
                                         allow_redirects=False)
        except requests.Timeout:
            raise ApiCallFailed("timeout") from None
        except requests.RequestException:
            raise ApiCallFailed("unreachable") from None
        return ApiClientResponse(headers=list(reply.headers.items()), status_code=reply.status_code,
                                 body=reply.text)
