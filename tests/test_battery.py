"""Bad input over real HTTP against the production server (gunicorn, verification on).

Every request gets a 4xx or a well-formed skill response, never a 5xx, and the
server still answers afterwards. The server trusts a throwaway root injected by
``bench.signed_app`` (a test-only module), never by a production setting.
"""
from __future__ import annotations

import copy
from typing import Any, Iterator

import pytest
import requests

from bench.pki import load_key, write_pki
from testkit.server import gunicorn
from skill.speech import plain_text
from testkit import envelopes as E
from testkit.alexa_certs import SKILL_ID, envelope_body, signed_headers
from tests.conftest import parse_ssml


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, Any]]:
    pki_dir = tmp_path_factory.mktemp("pki")
    write_pki(pki_dir)
    with gunicorn("bench.signed_app:app", env={"BENCH_PKI_DIR": str(pki_dir)},
                  log=pki_dir / "server.log") as base:
        yield base, load_key(pki_dir)


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
