"""The browser simulator's page and JSON endpoint, served by the development webhook only."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from simulator.client import RECORD_KEYS
from simulator.devserver import create_dev_app
from simulator.web import TIME_ZONES
from skill.content import CONTENT
from testkit.alexa_certs import SKILL_ID
from testkit.envelopes import LOCALES

TURN = "/simulator/turn"


@pytest.fixture(scope="module")
def client():
    return create_dev_app().test_client()


def turn(client, utterance: str, session: dict | None = None, locale: str = "en-US") -> dict:
    reply = client.post(TURN, json={"utterance": utterance, "locale": locale, "session": session})
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def test_page_is_served_in_development(client):
    reply = client.get("/")
    assert reply.status_code == 200 and reply.mimetype == "text/html"
    assert "script-src 'self'" in reply.headers["Content-Security-Policy"]
    page = _Tags()
    page.feed(reply.get_data(as_text=True))
    assert page.find("label", **{"for": "utterance"}) and page.find("input", id="utterance")
    assert page.find("button", id="send", type="submit")
    assert page.find("button", id="new-session", type="button")
    assert page.find("button", id="mic", hidden="") or page.find("button", id="mic", hidden=None)
    assert page.find("input", id="speak", type="checkbox")
    assert page.find("ol", id="transcript", **{"aria-live": "polite"})
    assert page.find("details", id="raw") and page.find("summary")
    locales = ["en-US", *sorted(set(LOCALES) - {"en-US"})]
    assert [o["value"] for o in page.find("option")] == [*locales, *TIME_ZONES]   # locale, then time zone
    assert page.find("label", **{"for": "locale"}) and page.find("label", **{"for": "time-zone"})
    disclaimer = re.search(r'<p id="disclaimer"[^>]*>([^<]*)</p>', reply.get_data(as_text=True))[1]
    assert "not a doctor" in disclaimer and "call 911" in disclaimer   # once, at the top, in en-US
    assert page.find("main")[0]["data-endpoint"] == TURN
    # markup, style and script in separate files: nothing inline
    assert not [a for t, a in page.tags if t == "script" and "src" not in a] and not page.find("style")


def test_static_assets_are_served(client):
    # Closed explicitly: a streamed static file left open is a ResourceWarning (an error here).
    with client.get("/simulator/static/simulator.css") as css, client.get("/simulator/static/simulator.js") as js:
        assert css.status_code == 200 and css.mimetype == "text/css" and b":focus-visible" in css.data
        assert js.status_code == 200 and "javascript" in js.mimetype
        assert b"webkitSpeechRecognition" in js.data and b"speechSynthesis" in js.data
    assert client.get("/simulator/static/nope.js").status_code == 404


def test_launch(client):
    record = turn(client, "open back pain guide")
    assert set(RECORD_KEYS) <= record.keys() and {"request", "response", "session", "notes"} <= record.keys()
    assert record["request_type"] == "LaunchRequest" and record["intent"] is None
    assert record["speech"].startswith("Welcome to Back Pain Guide")
    assert record["ssml"].startswith("<speak>") and record["reprompt"]
    assert record["end_session"] is False
    assert record["request"]["request"]["type"] == "LaunchRequest"
    assert record["request"]["session"]["new"] is True
    assert record["response"]["response"]["outputSpeech"]["type"] == "SSML"
    session = record["session"]
    assert session["session_id"] == record["request"]["session"]["sessionId"]
    assert session["new"] is False


def test_topic_question(client):
    record = turn(client, "what is a psa test")
    assert record["request_type"] == "IntentRequest" and record["intent"] == "PsaTestIntent"
    assert "PSA" in record["speech"] and record["card"]["title"]
    assert record["request"]["request"]["intent"]["name"] == "PsaTestIntent"


def test_glossary_slot_is_resolved(client):
    record = turn(client, "what is denosumab")
    assert record["intent"] == "GlossaryIntent"
    assert record["slots"] == {"term": {"value": "denosumab", "name": "denosumab", "id": "DENOSUMAB"}}


def test_session_state_carries_across_turns(client):
    first = turn(client, "can back pain be prostate cancer")
    offered = first["session"]["attributes"]
    assert first["end_session"] is False and offered
    assert first["speech"].endswith("Would you like to hear about where prostate cancer tends to spread?")

    second = turn(client, "yes", first["session"])
    assert second["intent"] == "AMAZON.YesIntent"
    assert "lymph nodes" in second["speech"] and "spine" in second["speech"]
    sent = second["request"]["session"]
    assert sent["sessionId"] == first["session"]["session_id"] and sent["new"] is False
    assert sent["attributes"] == offered
    assert second["request"]["session"]["user"]["userId"] == first["session"]["user_id"]
    assert second["request"]["context"]["System"]["device"]["deviceId"] == first["session"]["device_id"]

    last = turn(client, "stop", second["session"])
    assert last["end_session"] is True and last["session"]["session_id"] is None
    assert last["session"]["user_id"] == first["session"]["user_id"]


def test_without_state_yes_is_a_fresh_session(client):
    record = turn(client, "yes")
    assert record["request"]["session"]["new"] is True
    assert "lymph nodes" not in record["speech"]


def test_each_locale_reaches_its_own_model_and_emergency_number(client):
    numbers = {"en-US": "911", "en-CA": "911", "en-GB": "999", "en-AU": "000", "en-IN": "112"}
    for locale in LOCALES:
        record = turn(client, "my legs are numb", locale=locale)
        assert record["request"]["request"]["locale"] == locale
        assert record["card"]["title"] == f"Call {numbers[locale]} now" and record["end_session"] is False


def test_emergency_view_is_urgent_with_the_number_in_digits_for_every_locale(client):
    numbers = {"en-US": ("911", "nine one one"), "en-GB": ("999", "nine nine nine"),
               "en-AU": ("000", "triple zero"), "en-IN": ("112", "one one two")}
    for locale, (digits, words) in numbers.items():
        record = turn(client, "my legs are numb", locale=locale)
        view = record["view"]
        assert view["urgent"] is True
        assert f"call {digits} now" in view["text"] and words not in view["text"]
        assert f"call {words} now" in record["speech"]                     # speech says it in words
        assert words in " ".join(segment["text"] for segment in view["speak"])


def test_ordinary_answers_are_not_urgent_and_show_the_speech(client):
    for utterance in ("what is a psa test", "help", "what is denosumab"):
        record = turn(client, utterance)
        assert record["view"]["urgent"] is False
        assert record["view"]["text"] == record["speech"]


def test_view_carries_the_pace_and_speech_segments_of_the_ssml(client):
    slower = turn(client, "say that slower")
    assert slower["view"]["pace"] == 85 and slower["view"]["speak"][0]["rate"] == 0.85
    answer = turn(client, "what is a psa test", slower["session"])
    segments = answer["view"]["speak"]
    assert answer["view"]["pace"] == 85
    assert [s["pause_ms"] for s in segments] == [0, 400]     # the answer's <break time="400ms"/>
    assert segments[0]["text"].startswith("P S A stands for") and all(s["rate"] == 0.85 for s in segments)
    assert turn(client, "what is a psa test")["view"]["pace"] == 100   # a new session speaks normally


@pytest.mark.parametrize("locale", LOCALES)
def test_every_reply_shows_emergency_and_crisis_numbers_in_digits(client, locale):
    """The fallback's safety net and the crisis line, like the emergency card: digits on screen, words in speech."""
    info = CONTENT.locale(locale)
    for utterance, digits, words in (("order me a pizza", info.emergency_number, info.emergency_spoken),
                                     ("i want to end my life", info.crisis_number, info.crisis_spoken)):
        record = turn(client, utterance, locale=locale)
        assert words in record["speech"] and words not in record["view"]["text"], record["view"]["text"]
        assert digits in record["view"]["text"] and record["view"]["urgent"] is False


def test_the_department_is_written_as_a_screen_shows_it(client):
    record = turn(client, "i want to end my life", locale="en-GB")
    assert "nine nine nine" in record["speech"] and "999" in record["view"]["text"]
    assert turn(client, "order me a pizza", locale="en-GB")["view"]["text"].count("999") == 1


def test_locale_in_any_case_is_the_locale(client):
    """As the CLI's --locale: en-gb and en_GB are en-GB."""
    for spelled in ("en-gb", "EN-GB", "en_GB"):
        record = turn(client, "my legs are numb", locale=spelled)
        assert record["request"]["request"]["locale"] == "en-GB" and record["card"]["title"] == "Call 999 now"


def test_the_time_zone_drives_the_simulated_device(client):
    """The skill asks the local Alexa API for the device's zone: the page's choice, per device."""
    chicago, sydney = {}, {}
    for state, zone in ((chicago, "America/Chicago"), (sydney, "Australia/Sydney")):
        session = None
        for said in ("remind me to call my doctor", "yes", "i approve"):
            reply = client.post(TURN, json={"utterance": said, "time_zone": zone, "session": session})
            assert reply.status_code == 200, reply.get_json()
            session = reply.get_json()["session"]
            state["record"] = reply.get_json()
    for state, zone in ((chicago, "America/Chicago"), (sydney, "Australia/Sydney")):
        (reminder,) = state["record"]["reminders"]
        assert reminder["time_zone"] == zone and reminder["scheduled"].endswith("T09:00:00")


def test_an_unknown_time_zone_is_a_400(client):
    for zone in ("Mars/Olympus", 5, "", "../../etc/passwd"):
        reply = client.post(TURN, json={"utterance": "hi", "time_zone": zone})
        assert reply.status_code == 400 and "unknown time_zone" in reply.get_json()["error"]


@pytest.mark.parametrize("body, content_type, reason", [
    (b"not json", "application/json", "not valid JSON"),
    (b'{"utterance": "hi"', "application/json", "not valid JSON"),
    (b"[" * 20000 + b"]" * 20000, "application/json", "not valid JSON"),
    (b'{"utterance": "hi"}', "text/plain", "application/json"),
    (b'["what is a psa test"]', "application/json", "not a JSON object"),
    (b"{}", "application/json", "utterance is required"),
    (b'{"utterance": null}', "application/json", "utterance is required"),
    (b'{"utterance": 42}', "application/json", "utterance is required"),
    (b'{"utterance": "  "}', "application/json", "utterance is required"),
    (json.dumps({"utterance": "a" * 501}).encode(), "application/json", "longer than 500"),
    (b'{"utterance": "hi", "locale": "fr-FR"}', "application/json", "unknown locale"),
    (b'{"utterance": "hi", "locale": ["en-US"]}', "application/json", "unknown locale"),
    (b'{"utterance": "hi", "session": "abc"}', "application/json", "bad session state"),
    (b'{"utterance": "hi", "session": {"session_id": 7}}', "application/json", "bad session state"),
    (b'{"utterance": "hi", "session": {"session_id": "s", "attributes": []}}', "application/json",
     "bad session state"),
    (b'{"utterance": "hi", "session": {"session_id": "s", "new": "yes"}}', "application/json",
     "bad session state"),
    (b'{"utterance": "hi", "session": {"session_id": "s", "elicit": ["Nope", "x", {}]}}',
     "application/json", "bad session state"),
    (b'{"utterance": "hi", "session": {"user_id": ""}}', "application/json", "bad session state"),
])
def test_bad_input_is_a_400_with_a_json_error(client, body, content_type, reason):
    reply = client.post(TURN, data=body, content_type=content_type)
    assert reply.status_code == 400
    assert reason in reply.get_json()["error"]


def test_utterance_of_exactly_500_characters_is_accepted(client):
    reply = client.post(TURN, json={"utterance": "what is a psa test " + "x" * 481})
    assert reply.status_code == 200


def test_only_post_reaches_the_endpoint(client):
    assert client.get(TURN).status_code == 405


def test_skill_id_is_sent_when_configured():
    app = create_dev_app(SKILL_ID)
    record = app.test_client().post(TURN, json={"utterance": "what is a psa test"}).get_json()
    assert record["request"]["context"]["System"]["application"]["applicationId"] == SKILL_ID
    assert record["intent"] == "PsaTestIntent"


def test_a_failing_skill_is_reported_not_a_500():
    def broken(envelope):
        raise RuntimeError("boom")
    reply = create_dev_app(invoke=broken).test_client().post(
        TURN, json={"utterance": "what is a psa test"})
    assert reply.status_code == 502 and "boom" in reply.get_json()["error"]


def test_page_and_endpoint_are_absent_in_production():
    from testkit.alexa_certs import default_pki
    from webhook.app import create_app
    from webhook.verification import Verifier
    verifier = Verifier({SKILL_ID}, trust_roots=default_pki().trust_roots, fetcher=lambda url: b"")
    client = create_app(mode="production", skill_ids=SKILL_ID, verifier=verifier).test_client()
    assert client.get("/").status_code == 404
    assert client.get("/simulator/static/simulator.js").status_code == 404
    assert client.post(TURN, json={"utterance": "what is a psa test"}).status_code == 404


# --------------------------------------------- the client seam: Conversation.state() / restore()

def _stateless_turns(model, target, *steps):
    """Each step in a fresh Conversation resumed from the last one's state, via JSON."""
    from simulator.client import Conversation
    state, turns = None, []
    for step in steps:
        conversation = Conversation(model, target)
        conversation.restore(state)
        turns.append(step(conversation))
        state = json.loads(json.dumps(conversation.state()))
    return turns, state


def test_restored_conversation_keeps_elicitation_dialog_state_and_reprompt():
    from simulator.client import InProcessTarget
    from simulator.nlu import InteractionModel
    from tests.test_simulator_cli import FIXTURE, Recorder
    data = json.loads(FIXTURE.read_text())
    data["interactionModel"]["dialog"] = {"intents": [{"name": "RecipeIntent", "slots": []}]}
    recorder = Recorder()
    turns, state = _stateless_turns(
        InteractionModel(data), InProcessTarget(recorder),
        lambda c: c.launch(), lambda c: c.say("give me a recipe"), lambda c: c.silence(),
        lambda c: c.say("hotcakes"))
    assert turns[1].speech == "Which dish?" and turns[2].speech == "Which dish?"  # reprompt carried
    assert turns[3].intent == "RecipeIntent" and turns[3].slots["dish"]["id"] == "PANCAKES"
    assert [e["request"].get("dialogState") for e in recorder.events] == [None, "STARTED", "IN_PROGRESS"]
    assert len({e["session"]["sessionId"] for e in recorder.events}) == 1
    assert [e["session"]["new"] for e in recorder.events] == [True, False, False]
    assert recorder.events[-1]["session"]["attributes"]["count"] == 2
    assert len({e["session"]["user"]["userId"] for e in recorder.events}) == 1
    assert state["session_id"] == recorder.events[0]["session"]["sessionId"] and state["elicit"] is None


@pytest.mark.parametrize("state", [
    {"session_id": "s", "elicit": ["RecipeIntent", "dish"]},
    {"session_id": "s", "elicit": ["RecipeIntent", "nope", {}]},
    {"session_id": "s", "elicit": ["RecipeIntent", "dish", {"dish": {"name": "dish"}}]},
    {"session_id": "s", "elicit": ["RecipeIntent", "dish", {"dish": {"name": "dish", "value": "x",
                                                                     "confirmationStatus": "MAYBE"}}]},
    {"session_id": "s", "dialog_intent": "NoSuchIntent"},
    {"session_id": "s", "reprompt": ["text"]},
    {"session_id": "s", "silences": -1},
    {"session_id": "s", "silences": True},
    {"session_id": "x" * 257},
    {"device_id": 3},
])
def test_restore_refuses_malformed_state(state):
    from simulator.client import Conversation
    from simulator.nlu import InteractionModel
    from tests.test_simulator_cli import FIXTURE
    with pytest.raises(ValueError):
        Conversation(InteractionModel.load(FIXTURE), lambda envelope: {}).restore(state)
