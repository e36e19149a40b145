"""The development webhook over HTTP: bad input gets a clear 4xx, never a 500."""
from __future__ import annotations

import logging

import pytest

from webhook.app import (MAX_BODY_BYTES, ConfigurationError, create_app, logged_method, logged_path,
                         proxy_hops_setting, warm_up_setting)
from testkit import envelopes as E


def test_health(dev_client):
    reply = dev_client.get("/health")
    assert reply.status_code == 200
    assert reply.get_json() == {"status": "ok", "mode": "development"}


@pytest.mark.parametrize("body, reason", [
    (b"{not json", "body is not valid JSON"),
    (b"", "body is not valid JSON"),
    (b"\xff\xfe\x00", "body is not valid JSON"),
    (b"[1, 2]", "body is not a JSON object"),
    (b"42", "body is not a JSON object"),
    (b'"text"', "body is not a JSON object"),
    (b"null", "body is not a JSON object"),
    (b'{"version": "1.0"}', "envelope has no request object"),
    (b'{"request": []}', "envelope has no request object"),
    (b"[" * 5000, "body is not valid JSON"),  # RecursionError inside json
    (b'{"request": {}, "n": ' + b"7" * 5000 + b"}", "body is not valid JSON"),  # digit limit
    (b'{"request": {"n": NaN}}', "body is not valid JSON"),
    (b'{"request": {}, "a": ' + b"[" * 100 + b"]" * 100 + b"}", "body is nested too deeply"),
])
def test_bad_bodies_are_refused(dev_client, body, reason):
    reply = dev_client.post("/alexa", data=body, content_type="application/json")
    assert reply.status_code == 400
    assert reply.get_json() == {"error": reason}


def test_body_size_limit(dev_client):
    reply = dev_client.post("/alexa", data=b"{" + b" " * MAX_BODY_BYTES + b"}",
                            content_type="application/json")
    assert reply.status_code == 413
    assert reply.is_json


def test_wrong_method_and_path(dev_client):
    assert dev_client.get("/alexa").status_code == 405
    assert dev_client.get("/nope").status_code == 404
    assert dev_client.get("/nope").is_json


def test_wrong_skill_id_is_refused_when_configured():
    client = create_app(skill_ids=f"amzn1.ask.skill.other, {E.APP_ID}").test_client()
    assert client.post("/alexa", json=E.envelope(E.launch())).status_code == 200
    reply = client.post("/alexa", json=E.envelope(E.launch(), app_id="amzn1.ask.skill.evil"))
    assert reply.status_code == 400
    assert reply.get_json() == {"error": "wrong application id"}


def test_development_mode_says_so_loudly(caplog):
    with caplog.at_level(logging.WARNING):
        create_app(mode="development")
    assert "NOT verified" in caplog.text


def test_one_log_line_per_request_without_user_data(dev_client, caplog):
    caplog.set_level(logging.INFO, logger="webhook.app")
    dev_client.post("/alexa", json=E.envelope(E.intent("GlossaryIntent", {"term": E.slot("term", "denosumab")})))
    lines = [r.getMessage() for r in caplog.records if r.name == "webhook.app"]
    assert len(lines) == 1
    assert "type=IntentRequest intent=GlossaryIntent locale=en-US" in lines[0]
    assert "outcome=ok" in lines[0] and "latency_ms=" in lines[0]
    assert E.USER_ID not in lines[0] and "denosumab" not in lines[0]


def test_sdk_refusal_is_400_and_anything_else_a_generic_500(caplog):
    """Only the SDK's SerializationException means a malformed envelope (400); any other
    exception is our bug: 500 with a generic body, logged by type and place, never its message."""
    from ask_sdk_core.exceptions import SerializationException

    def raising(exc):
        def invoke(envelope):
            raise exc
        return invoke

    caplog.set_level(logging.INFO, logger="webhook.app")
    env = E.envelope(E.launch())
    sdk = create_app(invoke=raising(SerializationException(f"bad {E.USER_ID}"))).test_client()
    reply = sdk.post("/alexa", json=env)
    assert reply.status_code == 400 and reply.get_json() == {"error": "malformed request envelope"}
    bug = create_app(invoke=raising(KeyError(E.USER_ID))).test_client()
    reply = bug.post("/alexa", json=env)
    assert reply.status_code == 500 and reply.get_json() == {"error": "Internal Server Error"}
    assert "envelope rejected by the SDK: SerializationException at tests/test_webhook.py:" in caplog.text
    assert "skill failed: KeyError at tests/test_webhook.py:" in caplog.text
    assert E.USER_ID not in caplog.text and "Traceback" not in caplog.text


def test_an_escaped_exception_is_a_json_500_without_traceback(caplog):
    app = create_app()

    @app.get("/boom")
    def boom():
        raise ValueError(E.USER_ID)

    caplog.set_level(logging.INFO, logger="webhook.app")
    reply = app.test_client().get("/boom")
    assert reply.status_code == 500 and reply.get_json() == {"error": "Internal Server Error"}
    assert "server error: ValueError at tests/test_webhook.py:" in caplog.text
    assert E.USER_ID not in caplog.text and "Traceback" not in caplog.text


# --- issue 23 ---------------------------------------------------------------------

@pytest.mark.parametrize(("path", "logged"), [
    ("/x\n2026-12-05 INFO forged", "/x%0A2026-12-05%20INFO%20forged"),
    ("/a\x1b[2J\x00\u2028\x85b", "/a%1B%5B2J%00%E2%80%A8%C2%85b"),
    ("/" + "a" * 100, "/" + "a" * 63 + "..."),
    ("/" + "\n" * 100, "/" + "%0A" * 21 + "..."),
    ("/ok-path_1.2~x", "/ok-path_1.2~x"),
])
def test_an_unmatched_path_is_logged_encoded_and_capped(path, logged):
    assert logged_path(path) == logged


@pytest.mark.parametrize(("method", "logged"), [("GET", "GET"), ("G\x1bET", "?"), ("GET\n", "?"), ("", "?")])
def test_only_a_plain_method_is_logged(method, logged):
    assert logged_method(method) == logged


def test_the_log_names_the_matched_route_not_the_path(dev_client, caplog):
    caplog.set_level(logging.INFO, logger="webhook.app")
    dev_client.get("/health")
    dev_client.get("/nowhere%0a%1b[2Jforged")
    lines = [r.getMessage() for r in caplog.records if r.name == "webhook.app"]
    assert lines[0].startswith("GET /health status=200")
    assert lines[1].startswith("GET /nowhere%0A%1B%5B2Jforged status=404")


def test_identifiers_with_a_trailing_newline_are_not_echoed(dev_client, caplog):
    """N3: "$" matched before a final newline; fullmatch does not."""
    caplog.set_level(logging.INFO, logger="webhook.app")
    env = E.envelope(E.intent("GlossaryIntent\n", locale="en-US\n"))
    env["request"]["type"] = "IntentRequest\n"
    dev_client.post("/alexa", json=env)
    line = [r.getMessage() for r in caplog.records if r.name == "webhook.app"][-1]
    assert "type=- intent=- locale=-" in line and "\n" not in line


def test_a_lone_surrogate_is_a_400_in_development_too(dev_client):
    """N5: in development any request could do it (no signature needed)."""
    body = b'{"request": {"type": "LaunchRequest"}, "session": {"attributes": {"topic": "\\ud800"}}}'
    reply = dev_client.post("/alexa", data=body, content_type="application/json")
    assert reply.status_code == 400 and reply.get_json() == {"error": "body is not valid Unicode"}
    emoji = E.envelope(E.launch(), attributes={"note": "\U0001f600"})
    assert dev_client.post("/alexa", json=emoji).status_code == 200


def test_405_carries_allow(dev_client):
    reply = dev_client.get("/alexa")
    assert reply.status_code == 405 and reply.is_json
    assert "POST" in reply.headers["Allow"]


class RecordingVerifier:
    """Stands in for the verifier only to see which client address the app passes it."""

    def __init__(self):
        self.clients = []

    def verify(self, headers, body, envelope, client=None):
        self.clients.append(client)


@pytest.mark.parametrize(("hops", "expected"), [(0, "127.0.0.1"), (1, "198.51.100.4"), (2, "203.0.113.9")])
def test_the_client_address_comes_from_x_forwarded_for_only_behind_trusted_proxies(hops, expected):
    verifier = RecordingVerifier()
    app = create_app(mode="production", skill_ids=E.APP_ID, verifier=verifier, proxy_hops=hops)
    forwarded = {"X-Forwarded-For": "192.0.2.66, 203.0.113.9, 198.51.100.4"}
    reply = app.test_client().post("/alexa", json=E.envelope(E.launch()), headers=forwarded,
                                   environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert reply.status_code == 200
    assert verifier.clients == [expected]


@pytest.mark.parametrize(("value", "hops"), [(None, 0), ("", 0), ("2", 2), (" 1 ", 1)])
def test_trusted_proxy_hops_setting(value, hops):
    assert proxy_hops_setting(value) == hops


@pytest.mark.parametrize("value", ["-1", "one", "1.5", "²"])
def test_a_bad_trusted_proxy_hops_setting_stops_start_up(value):
    with pytest.raises(ConfigurationError, match="TRUSTED_PROXY_HOPS"):
        proxy_hops_setting(value)


def test_certificate_warm_up_setting():
    from webhook.verification import KNOWN_CERT_URL
    assert warm_up_setting(None) == warm_up_setting("") == warm_up_setting("0") == ()
    assert warm_up_setting("1") == (KNOWN_CERT_URL,)
    assert warm_up_setting(" https://s3.amazonaws.com/echo.api/a.pem, https://s3.amazonaws.com/echo.api/b.pem ") == (
        "https://s3.amazonaws.com/echo.api/a.pem", "https://s3.amazonaws.com/echo.api/b.pem")
