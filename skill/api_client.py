"""The HTTP client ask-sdk's service clients (reminders, settings) call Alexa's APIs through.

ask-sdk-core's ``DefaultApiClient`` calls ``requests`` with no time-out, so a
stalled Alexa API would hold the skill past the 8 seconds Alexa waits for an
answer; this client gives every call a connect and a read time-out. It also
imports ``requests`` only on its first call: that import costs about 0.1 s,
and the many requests that never reach an Alexa API should not pay it on a
cold start (measure: ``python3.12 -X importtime -c "import lambda_handler"``).

Alexa's ``apiEndpoint`` is always HTTPS. Plain HTTP is accepted only for a
loopback host, where the local simulator serves its stand-in for Alexa's API
(``simulator/alexa_api.py``); no other address is ever called over HTTP.
"""
from __future__ import annotations

import ipaddress
import json
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


def allowed_url(url: str) -> bool:
    """HTTPS anywhere (as Alexa's endpoints are), HTTP only on loopback."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


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
