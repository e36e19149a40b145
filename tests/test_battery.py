"""Bad input over real HTTP against the production server (gunicorn, verification on).

Every request gets a 4xx or a well-formed skill response, never a 5xx, and the
server still answers afterwards. The server trusts a throwaway root injected by
``bench.signed_app`` (a test-only module), never by a production setting.
"""
from __future__ import annotations

import base64
import contextlib
import copy
import http.client
import json
import logging
import os
import socket
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

import lambda_handler
from bench.pki import load_key, write_pki
from simulator.alexa_api import AlexaApi, user_key
from testkit.server import gunicorn
from testkit.slowclients import probe, slow_clients
from webhook.app import MAX_BODY_BYTES
from webhook.worker import BODY_SECONDS, HEAD_SECONDS, SEND_SECONDS
from skill.content import CONTENT
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
def alexa_api() -> Iterator[AlexaApi]:
    """The test's stand-in for Amazon's API; the server may call it (``BENCH_ALEXA_API``)."""
    with AlexaApi() as api:
        yield api


@pytest.fixture(scope="module")
def server(pki_dir, alexa_api) -> Iterator[tuple[str, Any]]:
    with gunicorn("bench.signed_app:app", env={"BENCH_PKI_DIR": str(pki_dir), "BENCH_ALEXA_API": alexa_api.endpoint},
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


@pytest.mark.slow   # holds slow connections open for 12 s by design: `make test-slow`
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


# --- issue 23: hostile clients, second round ------------------------------------

def split_base(base: str) -> tuple[str, int]:
    host, port = base.rsplit("//", 1)[1].split(":")
    return host, int(port)


def unsigned_with_a_new_cert_url() -> tuple[bytes, dict[str, str]]:
    """What anyone who knows the skill id can send: fresh, for our skill, a well-formed
    but random signature, and a certificate URL never seen before (so it costs a fetch)."""
    body = envelope_body(E.envelope(E.launch(), app_id=SKILL_ID))
    return body, {"SignatureCertChainUrl": f"https://s3.amazonaws.com/echo.api/{os.urandom(8).hex()}.pem",
                  "Signature-256": base64.b64encode(os.urandom(256)).decode(),
                  "Content-Type": "application/json"}


def post_from(source: str, base: str, body: bytes, headers: dict[str, str]) -> int:
    """POST /alexa from the loopback address ``source`` (127.0.0.2 and so on: still loopback)."""
    connection = http.client.HTTPConnection(*split_base(base), timeout=5, source_address=(source, 0))
    try:
        connection.request("POST", "/alexa", body, headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_unsigned_requests_cannot_lock_genuine_ones_out(tmp_path):
    """N1: three clients send unsigned requests with new certificate URLs, 30 a second in
    all, against a freshly started worker (empty certificate cache). Each spends only its
    own fetch budget, so genuine requests (another client) keep being answered."""
    write_pki(tmp_path)
    stop, attacks, errors = threading.Event(), [], []

    def hammer(source: str, base: str) -> None:
        try:
            while not stop.is_set():
                attacks.append(post_from(source, base, *unsigned_with_a_new_cert_url()))
                # Not stop.wait(0.1): under libfaketime (make test-clock) a timed wait on a
                # condition never wakes, the clock it is given being a year from the real one.
                time.sleep(0.1)
        except OSError as error:    # a refused or dropped connection ends this client, and says so
            errors.append(f"{source}: {error!r}")

    with gunicorn("bench.signed_app:app", env={"BENCH_PKI_DIR": str(tmp_path)}, workers=1,
                  log=tmp_path / "server.log") as base:
        server = (base, load_key(tmp_path))
        threads = [threading.Thread(target=hammer, args=(f"127.0.0.{i}", base), daemon=True) for i in (2, 3, 4)]
        for thread in threads:
            thread.start()
        try:
            deadline = time.monotonic() + 30
            while len(attacks) < 40:   # four times the fetches the old global cap allowed in a minute
                assert not errors and time.monotonic() < deadline, (len(attacks), errors)
                time.sleep(0.05)
            genuine = []
            for _ in range(12):
                # The status only: a reply kept would keep its connection open, and the server's stop waiting.
                genuine.append(send_signed(server, E.envelope(E.intent("WhereItSpreadsIntent"),
                                                              app_id=SKILL_ID)).status_code)
                time.sleep(0.2)
        finally:
            stop.set()
            for thread in threads:
                thread.join(5)
    answered = genuine.count(200)
    assert answered == len(genuine), f"{answered}/{len(genuine)} genuine requests answered"
    assert set(attacks) == {400} and len(attacks) >= 40
    log = (tmp_path / "server.log").read_text()
    assert "client over its 3 fetches" in log   # the attackers were held to their own budgets


CONTROLS = ["\r", "\n", "\x1b[2J", "\x00", "\u2028", "\x85", "\x0b", "\x1c"]


def hostile_requests(key: Any) -> Iterator[bytes]:
    """Raw requests carrying each control character in each field the logs might show."""
    for char in CONTROLS:
        encoded = char.encode()
        escaped = "".join(f"%{byte:02X}" for byte in encoded)
        forged = f"{escaped}2026-12-05 INFO webhook.app POST /alexa status=200 intent=EmergencyIntent outcome=ok"
        yield f"GET /x{forged.replace(' ', '%20')} HTTP/1.1\r\nHost: x\r\n\r\n".encode()     # path, unmatched
        yield f"GET /health{escaped} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        yield b"G" + encoded + b"ET /health HTTP/1.1\r\nHost: x\r\n\r\n"                      # method
        yield b"GET /health HTTP/1.1\r\nHost: x\r\nX-Note: a" + encoded + b"b\r\n\r\n"         # a header
        for field in ("type", "locale", "intent"):
            env = E.envelope(E.intent("GlossaryIntent"), app_id=SKILL_ID)
            if field == "intent":
                env["request"]["intent"]["name"] += char + "EmergencyIntent"
            else:
                env["request"][field] += char
            body = json.dumps(env).encode()
            yield (b"POST /alexa HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(body)) + body


def log_lines(path: Path) -> list[str]:
    """The log as any reader splits it: str.splitlines breaks at CR, LF, NEL, U+2028, VT, FS..."""
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def settled_lines(path: Path, wanted: int = 0, before: int = 0) -> list[str]:
    """The lines added since ``before``, once at least ``wanted`` arrived and the log stopped growing
    (gunicorn's second worker may still be logging its boot, a late line may still be coming)."""
    deadline = time.monotonic() + 5
    lines = log_lines(path)
    while len(lines) - before < wanted and time.monotonic() < deadline:
        time.sleep(0.05)
        lines = log_lines(path)
    deadline = time.monotonic() + 5
    while True:
        time.sleep(0.3)
        now = log_lines(path)
        if len(now) == len(lines) or time.monotonic() >= deadline:
            return now[before:]
        lines = now


def test_no_field_of_a_request_can_forge_or_split_a_log_line(server, pki_dir):
    """N2, N3: CR, LF, ESC, NUL, U+2028, NEL (and VT, FS) in the path, the method, a header,
    the request type, the locale and the intent name: each request makes exactly one log line,
    and no line carries a control character."""
    base, key = server
    log = pki_dir / "server.log"
    sent = list(hostile_requests(key))
    before = len(settled_lines(log))
    for raw in sent:
        with socket.create_connection(split_base(base), timeout=5) as sock:
            sock.sendall(raw)
            answer = b""
            while b"\r\n\r\n" not in answer and (chunk := sock.recv(4096)):
                answer += chunk
        assert answer.startswith((b"HTTP/1.1 4", b"HTTP/1.1 2")), (raw[:60], answer[:60])
    added = settled_lines(log, len(sent), before)
    assert len(added) == len(sent), f"{len(sent)} requests wrote {len(added)} log lines"
    for line in added:
        assert line.isprintable(), repr(line)
        assert " webhook.app " in line or "Invalid request from ip=" in line, line
        assert line.count("status=") <= 1 and "outcome=ok" not in line, line   # nothing forged


@pytest.mark.slow   # waits out the 5 s send deadline by design: `make test-slow`
def test_a_client_that_never_reads_is_cut_and_frees_its_slot(tmp_path):
    """N4: clients pipeline 2,000 requests each and never read the answers, one for each
    connection the worker takes (the red team's 8 of 8, scaled to 2 of 2 to keep this
    short). The socket buffers fill and the worker's writes wait; each connection is cut
    SEND_SECONDS later, and /health answers again. (The clients clamp their segment size
    to 536 bytes, as a path through the internet would; loopback's 64 KiB segments let
    the kernel buffer megabytes first, which only takes longer.)"""
    write_pki(tmp_path)
    pipelined = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" * 2000
    stuffed: list[socket.socket] = []

    def stuff(address: tuple[str, int]) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
        sock.connect(address)
        sock.settimeout(2)
        with contextlib.suppress(OSError):
            sock.sendall(pipelined)
        stuffed.append(sock)

    slots = 2
    with gunicorn("bench.signed_app:app", env={"BENCH_PKI_DIR": str(tmp_path), "WORKER_CONNECTIONS": str(slots),
                                               "LOG_LEVEL": "WARNING"},
                  workers=1, log=tmp_path / "server.log") as base:
        threads = [threading.Thread(target=stuff, args=(split_base(base),)) for _ in range(slots)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        held = time.monotonic()
        answered = None
        while answered is None and time.monotonic() - held < SEND_SECONDS + 4:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/health", timeout=1).status_code == 200:
                    answered = time.monotonic() - held
        while server_log(tmp_path).count("cut a client that does not read") < slots \
                and time.monotonic() - held < SEND_SECONDS + 4:
            time.sleep(0.1)
        all_cut = time.monotonic() - held
        for sock in stuffed:
            sock.close()
    assert len(stuffed) == slots
    assert answered is not None, f"/health unanswered for {SEND_SECONDS + 4:.0f} s"
    assert answered < SEND_SECONDS + 3, answered
    assert server_log(tmp_path).count("cut a client that does not read") == slots, all_cut
    assert all_cut < SEND_SECONDS + 3, all_cut
    assert "Traceback" not in server_log(tmp_path)


def test_unpaired_surrogates_are_refused_not_a_500(server, pki_dir):
    """N5: a lone surrogate in an echoed session attribute (or anywhere) is a 400 before
    the skill runs; a proper pair (an emoji, escaped) is answered."""
    for text in ("\ud800", "a\udfffb", "\ude00\ud83d"):
        for where in ("value", "key"):
            attributes = {"topic": text} if where == "value" else {text: 1}
            env = E.envelope(E.intent("AMAZON.HelpIntent"), app_id=SKILL_ID, attributes=attributes)
            reply = send_signed(server, env)
            assert reply.status_code == 400, (text.encode("unicode_escape"), where, reply.status_code)
            assert reply.json() == {"error": "body is not valid Unicode"}
    env = E.envelope(E.intent("AMAZON.HelpIntent"), app_id=SKILL_ID, attributes={"note": "\U0001f600"})
    assert_well_formed(send_signed(server, env))
    assert "status=500" not in server_log(pki_dir)


def test_request_heads_are_limited_to_what_alexa_sends(server):
    """N6: 32 header fields of at most 4 KiB each; Alexa's own headers, the largest
    signature the verifier takes and a 2,048-character certificate URL still pass."""
    base, key = server
    many = {f"X-Pad-{i}": "x" for i in range(40)}
    assert requests.get(f"{base}/health", headers=many, timeout=5).status_code == 431
    assert requests.get(f"{base}/health", headers={"X-Pad": "x" * 5000}, timeout=5).status_code == 431
    env = E.envelope(E.intent("WhereItSpreadsIntent"), app_id=SKILL_ID)
    body = envelope_body(env)
    alexa = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
             "Accept-Charset": "utf-8", "User-Agent": "Apache-HttpClient/UNAVAILABLE (Java/1.8.0_412)",
             "Signature": base64.b64encode(os.urandom(256)).decode(),
             "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Amzn-Trace-Id": "Root=1-x",
             **signed_headers(body, key=key)}
    reply = requests.post(f"{base}/alexa", data=body, headers=alexa, timeout=5)
    assert reply.status_code == 200, reply.text
    biggest = {**alexa, "Signature-256": base64.b64encode(os.urandom(1024)).decode(),
               "SignatureCertChainUrl": "https://s3.amazonaws.com/echo.api/" + "x" * (2048 - 35)}
    reply = requests.post(f"{base}/alexa", data=body, headers=biggest, timeout=5)
    assert reply.status_code == 400 and reply.json() == {"error": "verification failed"}   # the app decided


def test_a_replayed_consent_makes_one_reminder(server, alexa_api):
    """Replays: Alexa's "ACCEPTED" for the reminder permission, signed, sent ten times
    (within the 150 s Amazon allows) to the two workers: one reminder; the replays hear
    that it is already set."""
    user = user_key(E.USER_ID)
    alexa_api.take(user)
    env = E.point_at_api(E.envelope(E.connections_response("ACCEPTED"), app_id=SKILL_ID),
                         alexa_api.endpoint, alexa_api.token(user, True), granted=True)
    base, key = server
    body = envelope_body(env)
    headers = {**signed_headers(body, key=key), "Content-Type": "application/json"}
    replies = [requests.post(f"{base}/alexa", data=body, headers=headers, timeout=10) for _ in range(10)]
    assert [r.status_code for r in replies] == [200] * 10
    assert len(alexa_api.take(user)) == 1
    said = [plain_text(r.json()["response"]["outputSpeech"]["ssml"]) for r in replies]
    assert said[1:] == [CONTENT.prompts["reminder_already_set"]] * 9, said
    assert "9 in the morning" in said[0] or "tomorrow" in said[0].lower()


def test_405_names_the_allowed_methods(server):
    base, _ = server
    reply = requests.get(f"{base}/alexa", timeout=5)
    assert reply.status_code == 405 and reply.json() == {"error": "Method Not Allowed"}
    assert "POST" in {m.strip() for m in reply.headers["Allow"].split(",")}


def test_malformed_requests_are_logged_without_the_client_address(server, pki_dir):
    base, _ = server
    with socket.create_connection(split_base(base), timeout=5) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 400")
    deadline = time.monotonic() + 5
    while "Invalid request from" not in server_log(pki_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [line for line in server_log(pki_dir).splitlines() if "Invalid request from" in line]
    assert lines and all("ip=-:" in line and "127.0.0.1" not in line for line in lines), lines
