"""The development webhook over HTTP: bad input gets a clear 4xx, never a 500."""
from __future__ import annotations

import logging

import pytest

from webhook.app import MAX_BODY_BYTES, create_app
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
