"""Production mode through the Flask test client: verification decides before the skill runs."""
from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

import pytest

from webhook.verification import Verifier
from webhook.app import ConfigurationError, create_app
from testkit import envelopes as E
from testkit.alexa_certs import SKILL_ID, default_pki, envelope_body, make_pki, signed_headers, utcnow


class CountingFetcher:
    def __init__(self, pem: bytes):
        self.pem, self.calls = pem, 0

    def __call__(self, url: str) -> bytes:
        self.calls += 1
        return self.pem


@pytest.fixture()
def fetcher():
    return CountingFetcher(default_pki().pem)


@pytest.fixture()
def client(fetcher):
    verifier = Verifier({SKILL_ID}, trust_roots=default_pki().trust_roots, fetcher=fetcher)
    return create_app(mode="production", skill_ids=SKILL_ID, verifier=verifier).test_client()


def signed(request: dict, app_id: str = SKILL_ID) -> tuple[bytes, dict[str, str]]:
    body = envelope_body(E.envelope(request, app_id=app_id))
    return body, signed_headers(body)


def post(client, body: bytes, headers: dict[str, str]):
    return client.post("/alexa", data=body, headers=headers, content_type="application/json")


def test_production_requires_a_skill_id():
    with pytest.raises(ConfigurationError, match="SKILL_ID"):
        create_app(mode="production", skill_ids="")
    with pytest.raises(ConfigurationError):
        create_app(mode="staging")


def test_health_reports_production(client):
    assert client.get("/health").get_json() == {"status": "ok", "mode": "production"}


def test_signed_request_is_answered_and_the_chain_is_cached(client, fetcher):
    for name in ("DenosumabIntent", "AMAZON.HelpIntent", "PsaTestIntent"):
        reply = post(client, *signed(E.intent(name)))
        assert reply.status_code == 200, reply.get_json()
        assert reply.get_json()["response"]["outputSpeech"]["ssml"].startswith("<speak>")
    assert fetcher.calls == 1


def refused(client, body, headers) -> str:
    """Post; the answer must be the one generic refusal. Returns the reason the log line gives."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append
    logger = logging.getLogger("webhook.app")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        reply = post(client, body, headers)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert reply.status_code == 400
    assert reply.get_json() == {"error": "verification failed"}  # says nothing about why
    outcome = re.search(r" outcome=(\S+) ", records[-1].getMessage())[1]
    return outcome.replace("_", " ")


def test_unsigned_request_is_refused(client):
    body, _ = signed(E.launch())
    assert refused(client, body, {}) == "verification failed: missing cert url header"


def test_forged_signature_is_refused(client):
    body, _ = signed(E.launch())
    headers = signed_headers(body, key=make_pki("Forger").leaf_key)
    assert refused(client, body, headers) == "verification failed: signature mismatch"


def test_tampered_body_is_refused(client):
    body, headers = signed(E.intent("DenosumabIntent"))
    tampered = body.replace(b"DenosumabIntent", b"PsaTestIntent__")
    assert refused(client, tampered, headers) == "verification failed: signature mismatch"


def test_stale_request_is_refused(client):
    request = E.launch()
    request["timestamp"] = (utcnow() - timedelta(seconds=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert refused(client, *signed(request)) == "verification failed: stale timestamp"


def test_bad_cert_url_is_refused(client):
    body, _ = signed(E.launch())
    headers = signed_headers(body, cert_url="https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem")
    assert refused(client, body, headers) == "verification failed: bad cert url"


def test_other_skill_is_refused_before_the_skill_runs(client):
    calls = []
    verifier = Verifier({SKILL_ID}, trust_roots=default_pki().trust_roots, fetcher=CountingFetcher(default_pki().pem))
    app = create_app(mode="production", skill_ids=SKILL_ID, verifier=verifier,
                     invoke=lambda env: calls.append(env) or {})
    body, headers = signed(E.launch(), app_id="amzn1.ask.skill.someone-else")
    assert refused(app.test_client(), body, headers) == "verification failed: wrong application id"
    assert calls == []


def test_refusals_are_logged_with_the_reason_and_no_user_data(client, caplog):
    caplog.set_level("INFO", logger="webhook.app")
    body, _ = signed(E.launch())
    refused(client, body, signed_headers(body, key=make_pki("Forger").leaf_key))
    line = [r.getMessage() for r in caplog.records if r.name == "webhook.app"][-1]
    assert "status=400" in line and "signature_mismatch" in line
    assert E.USER_ID not in line and E.DEVICE_ID not in line


def test_non_json_is_refused_before_verification(client, fetcher):
    reply = client.post("/alexa", data=b"\x00garbage", headers={"Signature-256": "x"})
    assert reply.status_code == 400
    assert fetcher.calls == 0


def test_no_simulator_page_in_production(client):
    assert client.get("/").status_code == 404


def test_production_app_reads_settings_from_the_environment(monkeypatch):
    from webhook.app import production_app
    monkeypatch.setenv("SKILL_ID", f"{SKILL_ID},amzn1.ask.skill.second")
    app = production_app()
    assert app.config["MODE"] == "production"
    monkeypatch.setenv("SKILL_ID", " , ")
    with pytest.raises(ConfigurationError):
        production_app()


def test_signed_body_is_checked_byte_for_byte(client):
    envelope = E.envelope(E.launch(), app_id=SKILL_ID)
    body = json.dumps(envelope, indent=1).encode()  # same JSON, different bytes
    headers = signed_headers(envelope_body(envelope))
    assert refused(client, body, headers) == "verification failed: signature mismatch"


# --- replays: the memory of request ids already acted on --------------------------

def test_memory_ledger_says_first_once_per_key_until_it_forgets():
    from skill.replays import MemoryLedger
    now = [0.0]
    ledger = MemoryLedger(keep=300, max_keys=3, clock=lambda: now[0])
    assert [ledger.first(k) for k in ("a", "a", "b", "a")] == [True, False, True, False]
    now[0] = 301
    assert ledger.first("a") is True
    for key in "cdef":   # past max_keys the oldest go first
        ledger.first(key)
    assert ledger.first("a") is True


def test_file_ledgers_on_one_directory_agree_like_two_workers(tmp_path):
    import os

    from webhook.replays import FileLedger
    one, two = FileLedger(tmp_path), FileLedger(tmp_path)
    assert one.first("amzn1.echo-api.request.1") is True
    assert two.first("amzn1.echo-api.request.1") is False
    assert two.first("amzn1.echo-api.request.2") is True
    assert len(list(tmp_path.iterdir())) == 2
    assert not any("request" in p.name for p in tmp_path.iterdir())   # names are hashes, not ids
    old = next(tmp_path.iterdir())
    os.utime(old, (0, 0))   # a mark older than KEEP_SECONDS
    one.sweep()
    assert old not in list(tmp_path.iterdir()) and len(list(tmp_path.iterdir())) == 1


def test_a_missing_ledger_directory_acts_rather_than_refuses(tmp_path, caplog):
    from webhook.replays import FileLedger
    caplog.set_level("WARNING", logger="webhook.replays")
    ledger = FileLedger(tmp_path / "gone")
    assert ledger.first("r") is True and ledger.first("r") is True
    assert "replay ledger unavailable" in caplog.text
