"""Reminders to call the doctor: consent, the Reminders API and its failures, end to end.

Every flow runs through the Lambda entry and the development webhook (the test
plays Alexa's part: session, permission, consent answer) and through the
simulator (which plays it itself). The skill's API calls always go over HTTP
to the simulator's local Alexa API on 127.0.0.1; nothing leaves the machine.
"""
from __future__ import annotations

import io
import json
import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

import lambda_handler
from simulator import cli
from simulator.alexa_api import AlexaApi, check_reminder, user_key
from simulator.devserver import create_dev_app
from skill import api_client, reminders
from skill.content import CONTENT
from skill.skill import SKILL
from skill.speech import plain_text
from testkit import envelopes as E
from testkit.clock import Clock
from testkit.server import free_port, running

REMINDER_TEXT = "Time to call your doctor about your back pain."
REPO_MODELS = Path(__file__).resolve().parent.parent / "interaction_model"
# (device zone, request time in UTC, expected local time of the reminder): each crosses a DST change.
ZONES = [
    ("America/Chicago", "2026-03-07T18:00:00Z", "2026-03-08T09:00:00"),    # clocks go forward overnight
    ("Europe/London", "2026-03-28T20:00:00Z", "2026-03-29T09:00:00"),      # BST starts overnight
    ("Australia/Sydney", "2026-10-03T12:00:00Z", "2026-10-04T09:00:00"),   # AEDT starts overnight
    ("Australia/Sydney", "2026-04-04T14:30:00Z", "2026-04-06T09:00:00"),   # already the 5th there; AEDT ends
    ("America/Chicago", "2026-11-01T04:30:00Z", "2026-11-01T09:00:00"),    # still the 31st there; CDT ends
]
ZONE_IDS = ["chicago-spring", "london-spring", "sydney-spring", "sydney-autumn-past-midnight",
            "chicago-autumn-before-midnight"]
NOW = "2026-11-28T15:00:00Z"


def utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def speech(response: dict) -> str:
    return plain_text(response["response"]["outputSpeech"]["ssml"])


@pytest.fixture
def clock() -> Clock:
    """This test's one "now": the requests it sends and every local Alexa API it starts read it."""
    return Clock(NOW)


@pytest.fixture
def api_factory(clock):
    started: list[AlexaApi] = []

    def make(**kwargs) -> AlexaApi:
        api = AlexaApi(clock=clock, **kwargs).start()
        started.append(api)
        return api

    yield make
    for api in started:
        api.stop()


@pytest.fixture(scope="module")
def webhook():
    return create_dev_app().test_client()


@pytest.fixture(params=["lambda", "webhook"])
def send(request, webhook):
    if request.param == "lambda":
        return lambda env: lambda_handler.handler(env, None)

    def post(env):
        reply = webhook.post("/alexa", json=env)
        assert reply.status_code == 200, reply.data
        return reply.get_json()
    return post


class Alexa:
    """Alexa's part for the Lambda and webhook channels: one session, the permission, the local API."""

    def __init__(self, send, api: AlexaApi, *, granted: bool = False):
        self.api, self.granted, self.clock = api, granted, api.clock
        self.user = user_key(E.USER_ID)
        self.dialog = E.Dialog(send, prepare=self._prepare)

    def _prepare(self, env: dict) -> None:
        E.point_at_api(env, self.api.endpoint, self.api.token(self.user, self.granted),
                       granted=self.granted, timestamp=self.clock.stamp())

    def intent(self, name: str) -> dict:
        return self.dialog.intent(name)

    def consent(self, status: str, code: str = "200") -> dict:
        if status == "ACCEPTED" and code == "200":
            self.granted = True      # Alexa's answer, and every later request, carry the permission
        return self.dialog.request(E.connections_response(status, code=code))

    def reminders(self) -> list[dict]:
        return self.api.take(self.user)


def ask_and_agree(alexa: Alexa) -> dict:
    """Remind me -> the offer, stating what and when -> yes."""
    offer = alexa.intent("RemindMeIntent")
    said = speech(offer)
    assert "tomorrow at 9 in the morning" in said and "call your doctor" in said and said.endswith("Shall I?")
    assert offer["response"]["shouldEndSession"] is False
    return alexa.intent("AMAZON.YesIntent")


def assert_calm(response: dict) -> None:
    """No reminder, but the doctor is named, nothing is diagnosed, and the session goes on."""
    said = speech(response)
    assert "your doctor" in said and "you have" not in said.lower().replace("you have a reminder", "")
    assert "sorry" not in said.lower() and "try again" not in said.lower()
    assert response["response"]["shouldEndSession"] is False and response["response"]["reprompt"]


# --- Lambda entry and development webhook ----------------------------------------

@pytest.mark.parametrize(("zone", "now", "expected"), ZONES, ids=ZONE_IDS)
def test_granted_by_voice_sets_one_reminder_tomorrow_at_nine_local(send, clock, api_factory, zone, now, expected):
    clock.set(now)
    alexa = Alexa(send, api_factory(time_zone=zone))
    asked = ask_and_agree(alexa)
    body = asked["response"]
    assert [d["type"] for d in body["directives"]] == ["Connections.SendRequest"]
    directive = body["directives"][0]
    assert directive["name"] == "AskFor" and directive["payload"] == {
        "@type": "AskForPermissionsConsentRequest", "@version": "1", "permissionScope": E.REMINDERS_SCOPE}
    assert "outputSpeech" not in body and "shouldEndSession" not in body   # Alexa speaks next
    assert alexa.reminders() == []

    done = alexa.consent("ACCEPTED")
    (reminder,) = alexa.reminders()
    assert reminder == {"text": REMINDER_TEXT, "scheduled": expected, "time_zone": zone}
    local = datetime.fromisoformat(expected).replace(tzinfo=ZoneInfo(zone))
    assert (local.hour, local.minute) == (9, 0)
    assert utc(now) < local < utc(now) + timedelta(hours=48)
    assert local.utcoffset() != utc(now).astimezone(ZoneInfo(zone)).utcoffset()   # across the DST change
    said = speech(done)
    assert f"Tomorrow, {local.strftime('%A')}, at 9 in the morning" in said and "call your doctor" in said
    assert done["response"]["shouldEndSession"] is False
    assert [kind for _, kind, _ in alexa.api.calls] == ["time_zone", "reminder"]


def test_already_granted_means_no_consent_turn(send, api_factory):
    alexa = Alexa(send, api_factory(time_zone="Europe/London"), granted=True)
    done = ask_and_agree(alexa)
    assert "directives" not in done["response"]
    assert "9 in the morning" in speech(done)
    (reminder,) = alexa.reminders()
    assert reminder["time_zone"] == "Europe/London" and reminder["scheduled"].endswith("T09:00:00")


@pytest.mark.parametrize("answer", ["DENIED", "UNAVAILABLE"])
def test_refused_or_no_voice_consent_sends_the_consent_card(send, api_factory, answer):
    alexa = Alexa(send, api_factory())
    ask_and_agree(alexa)
    reply = alexa.consent("DENIED") if answer == "DENIED" else alexa.consent("ACCEPTED", code="400")
    assert reply["response"]["card"] == {"type": "AskForPermissionsConsent", "permissions": [E.REMINDERS_SCOPE]}
    assert "Alexa app" in speech(reply) and "Manage Permissions" in speech(reply)
    assert_calm(reply)
    assert alexa.reminders() == [] and not [c for c in alexa.api.calls if c[1] == "reminder"]


def test_not_answered_leaves_it_and_says_how_to_ask_later(send, api_factory):
    alexa = Alexa(send, api_factory())
    ask_and_agree(alexa)
    reply = alexa.consent("NOT_ANSWERED")
    assert "card" not in reply["response"]
    assert "remind me to call my doctor" in speech(reply)
    assert_calm(reply)
    assert alexa.reminders() == []


def test_no_thanks_declines_without_asking_for_anything(send, api_factory):
    alexa = Alexa(send, api_factory())
    alexa.intent("RemindMeIntent")
    reply = alexa.intent("AMAZON.NoIntent")
    assert "directives" not in reply["response"] and "card" not in reply["response"]
    assert speech(reply) == CONTENT.prompts["reminder_declined"]
    assert_calm(reply)
    assert alexa.api.calls == []


@pytest.mark.parametrize(("status", "card"), [(401, True), (403, True), (429, False), (500, False),
                                              (503, False), ("unsupported", False)])
def test_api_failures_get_a_calm_reply_and_no_reminder(send, api_factory, status, card):
    alexa = Alexa(send, api_factory(reminders_status=status), granted=True)
    reply = ask_and_agree(alexa)
    assert_calm(reply)
    assert ("card" in reply["response"]) is card
    if status == "unsupported":
        assert speech(reply) == CONTENT.prompts["reminder_unsupported"]
    assert alexa.reminders() == []
    # The conversation carries on: a question still gets its answer.
    assert speech(alexa.intent("PsaTestIntent")).startswith(CONTENT.topic_by_intent["PsaTestIntent"].answer)


def test_a_stalled_api_times_out_well_inside_alexas_eight_seconds(send, api_factory, monkeypatch):
    monkeypatch.setattr(SKILL.api_client, "read_timeout", 0.3)
    alexa = Alexa(send, api_factory(reminders_status="timeout", hold_s=2.0), granted=True)
    reply = ask_and_agree(alexa)
    assert speech(reply) == CONTENT.prompts["reminder_failed"]
    assert_calm(reply)
    assert alexa.reminders() == []


def test_the_time_outs_leave_room_to_answer():
    client = api_client.TimeoutApiClient()
    # Two calls (time zone, then create), each bounded by connect + read.
    assert 2 * (client.connect_timeout + client.read_timeout) <= 6.0
    assert SKILL.api_client.read_timeout == api_client.READ_TIMEOUT_S


def test_asked_twice_one_reminder_per_session(send, api_factory):
    alexa = Alexa(send, api_factory())
    ask_and_agree(alexa)
    alexa.consent("ACCEPTED")
    assert len(alexa.reminders()) == 1
    again = alexa.intent("RemindMeIntent")
    assert speech(again) == CONTENT.prompts["reminder_already_set"]
    assert speech(alexa.intent("AMAZON.YesIntent")) == CONTENT.prompts["yes_without_offer"]
    repeated = alexa.consent("ACCEPTED")       # even a repeated consent answer adds nothing
    assert speech(repeated) == CONTENT.prompts["reminder_already_set"]
    assert alexa.reminders() == []


def test_voice_forward_consent_answer_is_understood(send, api_factory):
    alexa = Alexa(send, api_factory(time_zone="America/Chicago"))
    ask_and_agree(alexa)
    alexa.granted = True
    done = alexa.dialog.request(E.session_resumed("ACCEPTED"))
    assert "9 in the morning" in speech(done)
    assert len(alexa.reminders()) == 1


def test_without_an_api_token_the_device_cannot_take_reminders(send):
    dialog = E.Dialog(send)
    dialog.intent("RemindMeIntent")
    env_user = {"consentToken": "X", "scopes": {E.REMINDERS_SCOPE: {"status": "GRANTED"}}}

    def granted_without_token(env):
        env["context"]["System"].pop("apiAccessToken")
        env["context"]["System"]["user"]["permissions"] = env_user
    dialog.prepare = granted_without_token
    reply = dialog.intent("AMAZON.YesIntent")
    assert speech(reply) == CONTENT.prompts["reminder_unsupported"]
    assert_calm(reply)


def test_help_offers_the_reminder_and_goodbye_never_does(send):
    dialog = E.Dialog(send)
    assert "remind me to call my doctor" in speech(dialog.intent("AMAZON.HelpIntent"))
    for name in ("AMAZON.StopIntent", "AMAZON.CancelIntent"):
        bye = E.Dialog(send)
        bye.intent("RemindMeIntent")
        reply = bye.intent(name)
        assert "remind" not in speech(reply).lower() and reply["response"]["shouldEndSession"] is True
        assert "directives" not in reply["response"]


def test_logs_say_the_outcome_and_nothing_private(api_factory, caplog):
    api = api_factory(reminders_status=429)
    alexa = Alexa(lambda env: lambda_handler.handler(env, None), api, granted=True)
    with caplog.at_level(logging.INFO):
        ask_and_agree(alexa)
    text = caplog.text
    assert "reminder outcome=throttled" in text
    token = api.token(alexa.user, True)
    for secret in (token, alexa.user, E.USER_ID, E.DEVICE_ID, "TESTCONSENTSECRET", "UTC", str(api.endpoint)):
        assert secret not in text


def test_every_reminder_line_names_the_doctor_and_claims_nothing():
    for key, text in CONTENT.prompts.items():
        if key.startswith("reminder_") and key != "reminder_text":
            assert "doctor" in text, key
            assert "you have" not in text.lower() or key == "reminder_already_set", key
    assert CONTENT.prompts["reminder_text"] == REMINDER_TEXT


# --- the simulator ------------------------------------------------------------------

def run_cli(*argv: str) -> list[dict]:
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["--json", *argv], stdout=out, stderr=err) == 0, err.getvalue()
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.parametrize(("zone", "now", "expected"), [ZONES[0], ZONES[2], ZONES[3]],
                         ids=[ZONE_IDS[0], ZONE_IDS[2], ZONE_IDS[3]])
def test_simulator_asks_for_consent_and_records_the_reminder(zone, now, expected):
    turns = run_cli("--time-zone", zone, "--now", now, "open back pain guide",
                    "remind me to call my doctor", "yes", "i approve")
    _, offer, asked, approved = turns
    assert offer["intent"] == "RemindMeIntent" and offer["directives"] == [] and offer["reminders"] == []
    assert asked["directives"] == ["Connections.SendRequest"] and asked["end_session"] is False
    assert asked["speech"] == ("Do you give Back Pain Guide permission to update your reminders? "
                               "You can say I approve or no.")
    assert approved["request_type"] == "Connections.Response"
    assert approved["reminders"] == [{"text": REMINDER_TEXT, "scheduled": expected, "time_zone": zone}]
    assert "at 9 in the morning" in approved["speech"]


def test_simulator_now_drives_its_local_alexa_api_too():
    """--now years in the past: an API on the real clock would refuse 'tomorrow' as already gone."""
    yes = run_cli("--permissions", "granted", "--now", "2020-02-28T20:00:00Z",
                  "remind me to call my doctor", "yes")[-1]
    assert yes["reminders"] == [{"text": REMINDER_TEXT, "scheduled": "2020-02-29T09:00:00", "time_zone": "UTC"}]
    assert "Saturday" in yes["speech"]


def test_simulator_with_permission_granted_has_no_consent_turn():
    turns = run_cli("--permissions", "granted", "remind me to call my doctor", "yes")
    yes = turns[-1]
    assert yes["request_type"] == "IntentRequest" and yes["directives"] == []
    assert len(yes["reminders"]) == 1 and yes["reminders"][0]["time_zone"] == "UTC"


def test_simulator_denied_gets_the_card_and_no_reminder():
    turns = run_cli("--permissions", "denied", "remind me to call my doctor", "yes", "remind me to call my doctor")
    yes = turns[2]
    assert yes["directives"] == ["Connections.SendRequest"] and yes["request_type"] == "Connections.Response"
    assert yes["card"]["title"] == "AskForPermissionsConsent" and yes["reminders"] == []
    assert "Alexa app" in yes["speech"]
    assert turns[3]["intent"] == "RemindMeIntent"   # may be asked again; nothing was created


def test_simulator_no_to_alexa_is_denied_and_anything_else_not_answered():
    no = run_cli("remind me to call my doctor", "yes", "no")[-1]
    assert no["request_type"] == "Connections.Response" and no["card"] and no["reminders"] == []
    other = run_cli("remind me to call my doctor", "yes", "what is a psa test", "remind me to call my doctor")
    assert other[3]["request_type"] == "Connections.Response" and other[3]["reminders"] == []
    assert "remind me to call my doctor" in other[3]["speech"]
    assert other[4]["speech"].startswith("I can remind you")   # and it can be offered again


@pytest.mark.parametrize("status", ["401", "429", "500"])
def test_simulator_api_failures(status):
    yes = run_cli("--permissions", "granted", "--reminders-status", status,
                  "remind me to call my doctor", "yes")[-1]
    assert yes["reminders"] == [] and yes["end_session"] is False
    assert "your doctor" in yes["speech"] and "sorry" not in yes["speech"].lower()


def test_simulator_time_out(monkeypatch):
    monkeypatch.setattr(SKILL.api_client, "read_timeout", 0.3)
    monkeypatch.setattr(AlexaApi, "__init__", _short_hold(AlexaApi.__init__))
    yes = run_cli("--permissions", "granted", "--reminders-status", "timeout",
                  "remind me to call my doctor", "yes")[-1]
    assert yes["speech"] == CONTENT.prompts["reminder_failed"] and yes["reminders"] == []


def _short_hold(init):
    def wrapped(self, **kwargs):
        init(self, **{**kwargs, "hold_s": 1.0})
    return wrapped


def test_a_replayed_request_makes_no_second_reminder(send, api_factory, clock):
    """The same consent answer (same request id) sent again: one reminder, and "already set"."""
    api = api_factory()
    user = user_key(E.USER_ID)
    # The request's own time and the local API's clock: one clock, the test's.
    env = E.point_at_api(E.envelope(E.connections_response("ACCEPTED")), api.endpoint,
                         api.token(user, True), granted=True, timestamp=clock.stamp())
    first = send(json.loads(json.dumps(env)))
    again = send(json.loads(json.dumps(env)))
    assert "9 in the morning" in speech(first)
    assert speech(again) == CONTENT.prompts["reminder_already_set"]
    assert len(api.take(user)) == 1


def test_simulator_asked_twice_sets_one_reminder():
    turns = run_cli("--permissions", "granted", "remind me to call my doctor", "yes",
                    "remind me to call my doctor", "yes")
    assert sum(len(t["reminders"]) for t in turns) == 1
    assert turns[3]["speech"] == CONTENT.prompts["reminder_already_set"]


def test_simulator_against_a_running_dev_server():
    """--url: the skill runs in another process and calls back to the simulator's API over HTTP."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "simulator.devserver", "--host", "127.0.0.1", "--port", str(port)]
    with running(argv, base):
        turns = run_cli("--url", f"{base}/alexa", "--time-zone", "America/Chicago", "--now", ZONES[0][1],
                        "remind me to call my doctor", "yes", "yes")
    assert turns[2]["directives"] == ["Connections.SendRequest"]
    assert turns[3]["reminders"] == [{"text": REMINDER_TEXT, "scheduled": ZONES[0][2],
                                      "time_zone": "America/Chicago"}]


def test_simulator_answers_voice_forward_consent_and_later_requests_carry_the_grant(clock, api_factory):
    """Connections.StartConnection to AMAZON.AskForPermissionsConsent comes back as a SessionResumedRequest."""
    from simulator.client import Conversation, InProcessTarget
    from simulator.consent import AlexaSide
    from simulator.nlu import InteractionModel

    start = {"type": "Connections.StartConnection", "uri": "connection://AMAZON.AskForPermissionsConsent/2",
             "token": "consent-1", "input": {"@type": "AskForPermissionsConsentRequest", "@version": "2",
                                             "permissionScopes": [{"permissionScope": E.REMINDERS_SCOPE,
                                                                   "consentLevel": "ACCOUNT"}]}}
    said = {"type": "PlainText", "text": "Okay."}

    def fake_skill(envelope, _context):
        asks = envelope["request"].get("intent", {}).get("name") == "RemindMeIntent"
        return {"version": "1.0", "response": {"directives": [start]} if asks else {
            "outputSpeech": said, "reprompt": {"outputSpeech": said}, "shouldEndSession": False}}

    model = InteractionModel.load(REPO_MODELS / "en-US.json")
    conv = Conversation(model, InProcessTarget(fake_skill), alexa=AlexaSide(api_factory(), "ask", "Demo"),
                        clock=clock)
    asked = conv.say("remind me to call my doctor")
    assert asked.directives == ["Connections.StartConnection"] and asked.alexa_prompt and not asked.end_session
    assert "permissions" not in asked.request["context"]["System"]["user"]
    answered = conv.say("yes")
    cause = answered.request["request"]["cause"]
    assert answered.request_type == "SessionResumedRequest" and cause["token"] == "consent-1"
    assert cause["result"]["status"] == "ACCEPTED"
    later = conv.say("what is a psa test")
    for request in (answered.request, later.request):
        user = request["context"]["System"]["user"]
        assert user["permissions"]["scopes"][E.REMINDERS_SCOPE] == {"status": "GRANTED"}
        assert request["context"]["System"]["apiAccessToken"].startswith("granted.")


def test_page_endpoint_carries_the_consent_question_and_the_reminder(webhook):
    def turn(utterance, session):
        reply = webhook.post("/simulator/turn", json={"utterance": utterance, "session": session})
        assert reply.status_code == 200, reply.get_json()
        return reply.get_json()
    offer = turn("remind me to call my doctor", None)
    asked = turn("yes", offer["session"])
    assert asked["alexa_prompt"].startswith("Do you give Back Pain Guide permission")
    assert asked["session"]["consent"][0] == "AskFor" and asked["session"]["permissions"] == "ask"
    done = turn("i approve", asked["session"])
    assert done["alexa_prompt"] is None and done["session"]["permissions"] == "granted"
    assert [r["text"] for r in done["reminders"]] == [REMINDER_TEXT]
    bad = webhook.post("/simulator/turn", json={"utterance": "yes", "session": {**asked["session"],
                                                                               "permissions": "maybe"}})
    assert bad.status_code == 400


# --- the local Alexa API ------------------------------------------------------------

def valid_body(**trigger) -> dict:
    return {"requestTime": "2026-11-28T15:00:00",
            "trigger": {"type": "SCHEDULED_ABSOLUTE", "scheduledTime": "2026-11-29T09:00:00.000",
                        "timeZoneId": "America/Chicago", **trigger},
            "alertInfo": {"spokenInfo": {"content": [{"locale": "en-US", "text": REMINDER_TEXT}]}},
            "pushNotification": {"status": "ENABLED"}}


def test_local_api_checks_the_bearer_token_and_the_permission(api_factory):
    api = api_factory()
    url = f"{api.endpoint}/v1/alerts/reminders"
    key = user_key(E.USER_ID)
    forged = api.token(key, False).replace("none.", "granted.", 1)
    for headers, status in (({}, 401), ({"Authorization": "Bearer nonsense"}, 401),
                            ({"Authorization": f"Bearer {forged}"}, 401),
                            ({"Authorization": f"Bearer {api.token(key, False)}"}, 403),
                            ({"Authorization": f"Bearer {api.token(key, True)}"}, 201)):
        reply = requests.post(url, json=valid_body(), headers=headers, timeout=5)
        assert reply.status_code == status, headers
    assert reply.json()["alertToken"] and len(api.take(key)) == 1
    zone = requests.get(f"{api.endpoint}/v2/devices/{E.DEVICE_ID}/settings/System.timeZone",
                        headers={"Authorization": f"Bearer {api.token(key, False)}"}, timeout=5)
    assert zone.json() == "UTC"
    assert requests.get(f"{api.endpoint}/v2/devices/x/settings/System.timeZone", timeout=5).status_code == 401


@pytest.mark.parametrize(("change", "code"), [
    (lambda b: b.pop("requestTime"), "INVALID_REQUEST_TIME"),
    (lambda b: b["trigger"].update(type="SOMETIME"), "INVALID_TRIGGER"),
    (lambda b: b["trigger"].update(scheduledTime="2026-11-29T09:00:00Z"), "INVALID_TRIGGER"),
    (lambda b: b["trigger"].update(scheduledTime="2026-11-27T09:00:00"), "INVALID_TRIGGER"),
    (lambda b: b["trigger"].update(timeZoneId="Mars/Olympus"), "INVALID_TIMEZONE"),
    (lambda b: b["alertInfo"]["spokenInfo"].update(content=[]), "INVALID_ALERT_INFO"),
    (lambda b: b["alertInfo"]["spokenInfo"]["content"][0].pop("locale"), "INVALID_ALERT_INFO"),
    (lambda b: b["pushNotification"].update(status="LOUD"), "INVALID_PUSH_NOTIFICATION"),
])
def test_local_api_checks_the_body_shape(change, code):
    body = valid_body()
    assert check_reminder(body, utc(NOW)) is None
    change(body)
    assert check_reminder(body, utc(NOW))[0] == code


def test_local_api_refuses_a_bad_body_over_http(api_factory):
    api = api_factory()
    token = api.token(user_key(E.USER_ID), True)
    reply = requests.post(f"{api.endpoint}/v1/alerts/reminders", data="{", timeout=5,
                          headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert reply.status_code == 400 and reply.json()["code"] == "INVALID_REQUEST"


# --- the API client -------------------------------------------------------------------

@pytest.mark.parametrize(("url", "allowed"), [
    ("https://api.amazonalexa.com/v1/alerts/reminders", True),
    ("https://api.eu.amazonalexa.com/v1/alerts/reminders", True),
    ("https://api.fe.amazonalexa.com:443/v2/devices/d/settings/System.timeZone", True),
    ("https://API.AmazonAlexa.com/v1/alerts/reminders", True),
    ("https://evil.example/v1/alerts/reminders", False),             # any other host, even over HTTPS
    ("https://api.amazonalexa.com.evil.example/v1/alerts/reminders", False),
    ("https://api.amazonalexa.com:8443/v1/alerts/reminders", False),
    ("https://user@api.amazonalexa.com/v1/alerts/reminders", False),
    ("https://10.0.0.1/v1/alerts/reminders", False),                 # private
    ("https://169.254.169.254/latest/meta-data/", False),            # link-local (cloud metadata)
    ("https://127.0.0.1/v1/alerts/reminders", False),
    ("http://127.0.0.1:8080/v1/alerts/reminders", False),            # loopback, but no simulator API there
    ("http://localhost:8080/x", False),
    ("http://api.amazonalexa.com/v1/alerts/reminders", False),
    ("http://10.0.0.1/v1/alerts/reminders", False),
    ("ftp://127.0.0.1/x", False),
    ("https:///x", False),
    ("https://api.amazonalexa.com:99999/x", False),
])
def test_api_client_speaks_only_to_amazon_or_a_local_simulator_api(url, allowed):
    assert api_client.allowed_url(url) is allowed


def test_a_local_simulator_api_is_callable_only_while_it_runs():
    api = AlexaApi().start()
    url = f"{api.endpoint}/v1/alerts/reminders"
    try:
        assert api_client.allowed_url(url)
        assert not api_client.allowed_url(url.replace("http://", "https://"))
    finally:
        api.stop()
    assert not api_client.allowed_url(url)


def test_api_client_refuses_without_sending():
    from ask_sdk_model.services import ApiClientRequest
    client = api_client.TimeoutApiClient()
    with pytest.raises(api_client.ApiCallFailed, match="refused"):
        client.invoke(ApiClientRequest(method="POST", url="http://10.0.0.1/v1/alerts/reminders"))
    assert client._session is None      # nothing was even set up to send it


def test_closed_loopback_port_is_a_failure_not_a_crash(send):
    endpoint = f"http://127.0.0.1:{free_port()}"
    api_client.allow_local_api(endpoint)     # a simulator API that has died
    try:
        dialog = E.Dialog(send, prepare=lambda env: E.point_at_api(env, endpoint, "t", granted=True))
        dialog.intent("RemindMeIntent")
        reply = dialog.intent("AMAZON.YesIntent")
    finally:
        api_client.forget_local_api(endpoint)
    assert speech(reply) == CONTENT.prompts["reminder_failed"]


def test_an_endpoint_that_is_not_alexas_is_never_called(send, api_factory):
    """Even a real HTTP server on loopback: not a simulator API registered in this process, not called."""
    canary = api_factory()
    endpoint = canary.endpoint
    api_client.forget_local_api(endpoint)    # running, but not this process's simulator API
    dialog = E.Dialog(send, prepare=lambda env: E.point_at_api(
        env, endpoint, canary.token(user_key(E.USER_ID), True), granted=True))
    dialog.intent("RemindMeIntent")
    reply = dialog.intent("AMAZON.YesIntent")
    assert canary.calls == []
    assert speech(reply) == CONTENT.prompts["reminder_unsupported"]


def test_tomorrow_is_the_devices_tomorrow():
    late = utc("2026-06-30T23:30:00+00:00")
    assert reminders.tomorrow_at(late, "Australia/Sydney") == datetime(2026, 7, 2, 9)
    assert reminders.tomorrow_at(late, "America/Los_Angeles") == datetime(2026, 7, 1, 9)
    with pytest.raises(ValueError):
        reminders.tomorrow_at(late, "Not/AZone")
