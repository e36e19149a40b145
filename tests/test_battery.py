"""Bad input over real HTTP against the production server (gunicorn, verification on).

Every request gets a 4xx or a well-formed skill response, never a 5xx, and the
server still answers afterwards. The server trusts a throwaway root injected by
``bench.signed_app`` (a test-only module), never by a production setting.
"""
from __future__ import annotations

import copy
import logging
import socket
import time
import traceback
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

import lambda_handler
from bench.pki import load_key, write_pki
from testkit.server import gunicorn
from testkit.slowclients import probe, slow_clients
from webhook.app import MAX_BODY_BYTES
from webhook.worker import BODY_SECONDS, HEAD_SECONDS
from skill.speech import plain_text
from testkit import envelopes as E
from testkit.alexa_certs import SKILL_ID, envelope_body, signed_headers
from tests.conftest import parse_ssml


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    write_pki(directory)
    return directory


@pytest.fixture(scope="module")
def server(pki_dir) -> Iterator[tuple[str, Any]]:
    with gunicorn("bench.signed_app:app", env={"BENCH_PKI_DIR": str(pki_dir)},
                  log=pki_dir / "server.log") as base:
        yield base, load_key(pki_dir)


def server_log(pki_dir: Path) -> str:
    return (pki_dir / "server.log").read_text(errors="replace")


def send_signed(server, envelope: Any) -> requests.Response:
    base, key = server
    body = envelope_body(envelope)
    return requests.post(f"{base}/alexa", data=body, timeout=5,
                         headers={**signed_headers(body, key=key), "Content-Type": "application/json"})


def assert_well_formed(reply: requests.Response) -> None:
    assert reply.status_code == 200, reply.text
    response = reply.json()
    assert response["version"] == "1.0" and isinstance(response["response"], dict)
    speech = response["response"].get("outputSpeech")
    if speech:
        parse_ssml(speech["ssml"])


@pytest.mark.parametrize("body", [
    b"{not json", b"", b"[]", b"[{\"request\": {}}]", b"7", b"\"a string\"", b"true", b"null",
    b"{}", b"{\"request\": null}", b"\xff\xfe", "{\"request\": \"\u2603\"}".encode(),
])
def test_bodies_that_are_not_envelopes(server, body):
    base, _ = server
    reply = requests.post(f"{base}/alexa", data=body, timeout=5, headers={"Content-Type": "application/json"})
    assert reply.status_code == 400
    assert "error" in reply.json()


def test_one_mebibyte_body_is_refused(server):
    base, _ = server
    reply = requests.post(f"{base}/alexa", data=b"{\"a\": \"" + b"x" * (1 << 20) + b"\"}", timeout=10)
    assert reply.status_code == 413


@pytest.mark.parametrize("kind", ["AudioPlayer.PlaybackNearlyFinished", "Connections.Response",
                                  "Display.ElementSelected", "PlaybackController.PlayCommandIssued"])
def test_request_types_we_do_not_serve(server, kind):
    request = {"type": kind, "requestId": "amzn1.echo-api.request.x", "timestamp": E.now_iso(), "locale": "en-US"}
    reply = send_signed(server, E.envelope(request, app_id=SKILL_ID))
    assert_well_formed(reply)
    assert "outputSpeech" not in reply.json()["response"]


def test_made_up_request_type(server):
    request = {"type": "Totally.MadeUp", "requestId": "r", "timestamp": E.now_iso(), "locale": "en-US"}
    assert send_signed(server, E.envelope(request, app_id=SKILL_ID)).status_code == 400


def test_unknown_locale_is_answered_in_english(server):
    reply = send_signed(server, E.envelope(E.launch(locale="xx-XX"), app_id=SKILL_ID))
    assert_well_formed(reply)
    assert plain_text(reply.json()["response"]["outputSpeech"]["ssml"]).startswith("Welcome")


@pytest.mark.parametrize("value", [
    "</speak><audio src='https://evil.example/x.mp3'/>", "a & b < c > d \" ' ", "😀 ünïcödé 中文 \u202e",
    "x" * 4000, "\x00\x01\x02",
])
def test_hostile_slot_values(server, value):
    env = E.envelope(E.intent("GlossaryIntent", {"term": E.slot("term", value)}), app_id=SKILL_ID)
    reply = send_signed(server, env)
    assert_well_formed(reply)
    assert "evil" not in reply.json()["response"]["outputSpeech"]["ssml"]


def leaf_paths(node: Any, path: tuple = ()) -> Iterator[tuple]:
    """Every path into the envelope, objects and leaves alike."""
    if path:
        yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaf_paths(value, (*path, key))


WRONG_VALUES = [None, 0, -1.5, True, "", "text", [], [1, "two"], {}, {"nested": {"deep": []}}]


def mutations() -> Iterator[tuple[str, Any]]:
    base = E.envelope(E.intent("GlossaryIntent", {"term": E.slot("term", "psa", er_id="PSA")}), app_id=SKILL_ID)
    for path in leaf_paths(base):
        for value in WRONG_VALUES:
            env = copy.deepcopy(base)
            node = env
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
            yield "/".join(map(str, path)), env


def test_wrong_types_in_every_field_never_give_a_500(server):
    seen = {200: 0, 400: 0}
    for path, env in mutations():
        reply = send_signed(server, env)
        assert reply.status_code in (200, 400), (path, reply.status_code, reply.text)
        reply.json()  # always JSON
        seen[reply.status_code] += 1
    assert seen[200] > 50 and seen[400] > 50  # both paths really exercised


def test_forged_and_stale_requests(server):
    base, _ = server
    env = E.envelope(E.launch(), app_id=SKILL_ID)
    body = envelope_body(env)
    assert requests.post(f"{base}/alexa", data=body, timeout=5).status_code == 400  # unsigned
    forged = signed_headers(body)  # signed by a key the server does not trust
    assert requests.post(f"{base}/alexa", data=body, headers=forged, timeout=5).status_code == 400
    env["request"]["timestamp"] = "2020-01-01T00:00:00Z"
    assert send_signed(server, env).status_code == 400


def test_server_still_healthy_afterwards(server):
    base, _ = server
    assert requests.get(f"{base}/health", timeout=5).json() == {"status": "ok", "mode": "production"}
    assert_well_formed(send_signed(server, E.envelope(E.intent("DenosumabIntent"), app_id=SKILL_ID)))
    assert requests.get(f"{base}/alexa", timeout=5).status_code == 405
    assert requests.get(f"{base}/nowhere", timeout=5).status_code == 404


# --- issue 12: slow and hostile clients -----------------------------------------

HOLD = BODY_SECONDS + 2  # every kind gets cut at least once; `make bench-slow` holds 25 s


def test_slow_clients_neither_starve_the_server_nor_linger(server, pki_dir):
    """F1: 8 one-byte, 16 trickled-head and 8 trickled-body connections, kept open together
    (each reopened when cut), against the real server configuration. /health and signed
    requests keep answering within 2 s, and every slow connection is cut once overdue."""
    base, _ = server
    question = E.envelope(E.intent("WhereItSpreadsIntent"), app_id=SKILL_ID)
    with slow_clients(base) as clients:
        time.sleep(0.5)  # every client has sent its first bytes
        timings = probe(base, HOLD, lambda: send_signed(server, question))
    assert len(timings["health"]) >= 20 and len(timings["signed"]) >= 20
    assert max(timings["health"]) < 2.0, timings["health"]
    assert max(timings["signed"]) < 2.0, timings["signed"]
    assert [c.error for c in clients if c.error] == []
    assert [len([c for c in clients if c.kind == k]) for k in ("one-byte", "head", "body")] == [8, 16, 8]
    assert all(c.cuts for c in clients), [(c.kind, c.cuts) for c in clients]
    for client in clients:
        if client.kind == "body":  # the head came at once: the body deadline
            low, high = BODY_SECONDS - 0.5, BODY_SECONDS + 2
        else:  # the head deadline
            low, high = HEAD_SECONDS - 0.5, HEAD_SECONDS + 2
        assert all(low < t < high for t in client.cuts), (client.kind, client.cuts)
    log = server_log(pki_dir)
    assert log.count("cut a slow client: request head incomplete") >= 24
    assert log.count("cut a slow client: request body incomplete") >= 8
    assert "Traceback" not in log


def test_deep_nesting_and_huge_numbers_are_refused_quietly(server, pki_dir):
    """F2: whatever json throws on is a 400 with a JSON body, and no traceback in the log."""
    base, _ = server
    bodies = [
        b"[" * 2000,  # RecursionError in json
        b"{\"request\": {}, \"a\": " + b"[" * 500 + b"]" * 500 + b"}",  # parses, too deep to keep
        b"{\"request\": {}, \"n\": " + b"9" * 5000 + b"}",  # past Python's digit limit
        b"{\"request\": {}, \"n\": 1e999999}",
        b"{\"request\": {}, \"n\": NaN}",
        b"{\"request\": {}, \"n\": -Infinity}",
        b"{\"request\": {\"s\": \"\\ud800\"}}",  # a lone surrogate
        "{\"request\": {}}".encode("utf-16"),
    ]
    for body in bodies:
        reply = requests.post(f"{base}/alexa", data=body, timeout=5,
                              headers={"Content-Type": "application/json"})
        assert reply.status_code == 400, (body[:40], reply.status_code)
        assert "error" in reply.json()
    assert "Traceback" not in server_log(pki_dir) and "status=500" not in server_log(pki_dir)


def test_oversized_chunked_body_is_refused(server):
    """F5: without a Content-Length the 64 KiB limit still holds (413), and the connection
    is not left holding the rest of the body."""
    base, _ = server

    def chunks(total: int) -> Iterator[bytes]:
        yield b'{"request": {}, "pad": "'
        for _ in range(total // 4096):
            yield b"x" * 4096
        yield b'"}'

    reply = requests.post(f"{base}/alexa", data=chunks(MAX_BODY_BYTES + 4096), timeout=10)
    assert reply.status_code == 413 and reply.json() == {"error": "Request Entity Too Large"}
    reply = requests.post(f"{base}/alexa", data=chunks(2 * 1024 * 1024), timeout=10)
    assert reply.status_code == 413
    reply = requests.post(f"{base}/alexa", data=chunks(MAX_BODY_BYTES - 1024), timeout=10)
    assert reply.status_code == 400 and reply.json() == {"error": "verification failed"}  # read whole
    assert requests.get(f"{base}/health", timeout=5).status_code == 200


def test_every_refusal_is_the_same_answer(server, pki_dir):
    """F4: which check failed is for the log, not the caller; a right skill id with a
    wrong signature looks exactly like a wrong one."""
    base, key = server
    ours = envelope_body(E.envelope(E.launch(), app_id=SKILL_ID))
    theirs = envelope_body(E.envelope(E.launch(), app_id="amzn1.ask.skill.someone-else"))
    stale_env = E.envelope(E.launch(), app_id=SKILL_ID)
    stale_env["request"]["timestamp"] = "2020-01-01T00:00:00Z"
    stale = envelope_body(stale_env)
    attempts = [
        (ours, {}),  # unsigned
        (ours, signed_headers(ours)),  # signed by a key nobody trusts
        (theirs, signed_headers(theirs, key=key)),  # properly signed, another skill
        (theirs, signed_headers(theirs)),
        (stale, signed_headers(stale, key=key)),
        (ours, {**signed_headers(ours, key=key), "Signature-256": "QUJD"}),
        (ours, signed_headers(ours, key=key, cert_url="https://s3.amazonaws.com:563/echo.api/x.pem")),
    ]
    answers = set()
    for body, headers in attempts:
        reply = requests.post(f"{base}/alexa", data=body, headers=headers, timeout=5)
        answers.add((reply.status_code, reply.content))
    assert answers == {(400, b'{"error":"verification failed"}\n')}
    log = server_log(pki_dir)
    for reason in ("missing_cert_url_header", "signature_mismatch", "wrong_application_id",
                   "stale_timestamp", "bad_signature_encoding", "bad_cert_url"):
        assert f"outcome=verification_failed:_{reason}" in log  # the operator still sees why


def test_lambda_entry_logs_no_values(caplog):
    """F6: a malformed field makes the SDK raise with the value in its message (here a
    user id as the timestamp); the Lambda entry logs type and place only, and what it
    re-raises (which Lambda writes to the log) carries no value either."""
    env = E.envelope(E.launch())
    env["request"]["timestamp"] = E.USER_ID
    caplog.set_level(logging.INFO)
    with pytest.raises(lambda_handler.RequestFailed) as info:
        lambda_handler.handler(env, None)
    raised = "".join(traceback.format_exception(info.value))
    assert E.USER_ID not in raised and E.USER_ID not in caplog.text
    assert "request failed: SerializationException at " in caplog.text


def test_expect_100_continue_is_answered_before_the_body(server):
    """The worker reads the body before the app runs, so it must answer
    "Expect: 100-continue" itself, or such a client would wait for nothing."""
    base, _ = server
    host, port = base.rsplit("//", 1)[1].split(":")
    body = envelope_body(E.envelope(E.launch(), app_id=SKILL_ID))
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"POST /alexa HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
        sock.settimeout(1.5)
        assert sock.recv(4096).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        sock.settimeout(5)
        answer = b""
        while b'"verification failed"' not in answer:
            chunk = sock.recv(4096)
            assert chunk, answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 ")
