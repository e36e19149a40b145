"""Simulator envelopes, sessions, targets and CLI, against fake skills (never the real one)."""

from __future__ import annotations

import copy
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import IntentRequest, LaunchRequest, RequestEnvelope, SessionEndedRequest
from ask_sdk_model.canfulfill import CanFulfillIntentRequest
from ask_sdk_model.dialog import ElicitSlotDirective
from ask_sdk_model.ui import SimpleCard

from simulator import cli
from simulator import envelopes as env
from simulator.client import RECORD_KEYS, Conversation, HttpTarget, InProcessTarget, TargetError
from simulator.nlu import InteractionModel
from simulator.ssml import break_ms, pace, rate_percent, to_espeak, to_segments
from skill.speech import MAX_SPEECH_CHARS, plain_text

REPO = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "mini_model.json"
HAVE_ESPEAK = shutil.which("espeak-ng") is not None


# ------------------------------------------------------------------ a tiny ask-sdk skill
def _build_skill() -> Any:
    sb = SkillBuilder()

    @sb.request_handler(can_handle_func=is_request_type("LaunchRequest"))
    def launch(handler_input):
        handler_input.attributes_manager.session_attributes["count"] = 1
        return (handler_input.response_builder
                .speak("Welcome to <emphasis>Kitchen</emphasis> Helper &amp; friends.")
                .ask("What shall we cook?").response)

    @sb.request_handler(can_handle_func=is_intent_name("RecipeIntent"))
    def recipe(handler_input):
        attributes = handler_input.attributes_manager.session_attributes
        attributes["count"] = attributes.get("count", 0) + 1
        dish = handler_input.request_envelope.request.intent.slots["dish"]
        if not dish.value:
            handler_input.response_builder.add_directive(
                ElicitSlotDirective(slot_to_elicit="dish"))
            return handler_input.response_builder.speak("Which dish?").ask("Which dish?").response
        return (handler_input.response_builder.speak(f"Here is {dish.value}. Count {attributes['count']}.")
                .ask("Anything else?").set_card(SimpleCard("Recipe", dish.value)).response)

    @sb.request_handler(can_handle_func=is_intent_name("AMAZON.StopIntent"))
    def stop(handler_input):
        return handler_input.response_builder.speak("Goodbye.").set_should_end_session(True).response

    @sb.request_handler(can_handle_func=is_intent_name("TipIntent"))
    def tip(handler_input):
        return handler_input.response_builder.speak("Salt the pasta water.").response   # shouldEndSession null

    @sb.request_handler(can_handle_func=is_request_type("SessionEndedRequest"))
    def ended(handler_input):
        return handler_input.response_builder.response

    @sb.request_handler(can_handle_func=is_request_type("CanFulfillIntentRequest"))
    def can_fulfill(handler_input):
        from ask_sdk_model.canfulfill import CanFulfillIntent, CanFulfillIntentValues
        handler_input.response_builder.set_can_fulfill_intent(CanFulfillIntent(CanFulfillIntentValues.YES, {}))
        return handler_input.response_builder.response

    @sb.request_handler(can_handle_func=lambda handler_input: True)
    def other(handler_input):
        request = handler_input.request_envelope.request
        name = request.intent.name if hasattr(request, "intent") and request.intent else request.object_type
        return handler_input.response_builder.speak(f"You said {name}.").ask("And?").response

    return sb.lambda_handler()


skill_handler = _build_skill()


class Recorder:
    """Wraps a handler and keeps every event it saw."""

    def __init__(self, handler: Any = skill_handler) -> None:
        self.handler = handler
        self.events: list[dict] = []

    def __call__(self, event: dict, context: Any) -> dict:
        self.events.append(copy.deepcopy(event))
        return self.handler(event, context)


@pytest.fixture(scope="module")
def model() -> InteractionModel:
    return InteractionModel.load(FIXTURE)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def conv(model: InteractionModel, recorder: Recorder) -> Conversation:
    return Conversation(model, InProcessTarget(recorder))


def deserialize(envelope: dict) -> RequestEnvelope:
    return DefaultSerializer().deserialize(json.dumps(envelope), RequestEnvelope)


# ------------------------------------------------------------------ envelopes
def test_envelopes_deserialize_into_sdk_types(model: InteractionModel) -> None:
    identity, session = env.Identity(), env.SessionInfo()
    resolution = model.resolve("how do i make flapjacks")
    cases = [
        (env.launch_request(identity, session, "en-US"), LaunchRequest),
        (env.intent_request(identity, session, "en-US", resolution.intent, resolution.slots), IntentRequest),
        (env.session_ended_request(identity, session, "en-US", "ERROR", "boom"), SessionEndedRequest),
        (env.can_fulfill_intent_request(identity, "en-US", resolution.intent, resolution.slots),
         CanFulfillIntentRequest),
    ]
    for envelope, request_type in cases:
        parsed = deserialize(envelope)
        assert isinstance(parsed.request, request_type)
        assert parsed.version == "1.0"
        assert parsed.context.system.application.application_id == identity.application_id
        assert parsed.context.system.device.device_id == identity.device_id
        assert parsed.context.system.api_endpoint == "https://api.amazonalexa.com"
        assert parsed.context.system.api_access_token
        assert parsed.request.locale == "en-US"
    slot = deserialize(cases[1][0]).request.intent.slots["dish"]
    assert slot.resolutions.resolutions_per_authority[0].values[0].value.id == "PANCAKES"
    assert deserialize(cases[2][0]).request.error.message == "boom"


def test_envelope_shapes(model: InteractionModel) -> None:
    identity = env.Identity(skill_id="amzn1.ask.skill.1234")
    first = env.launch_request(identity, env.SessionInfo(), "en-GB")
    assert re.fullmatch(r"amzn1\.echo-api\.session\.[0-9a-f-]{36}", first["session"]["sessionId"])
    assert re.fullmatch(r"amzn1\.echo-api\.request\.[0-9a-f-]{36}", first["request"]["requestId"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["request"]["timestamp"])
    assert first["session"]["user"]["userId"].startswith("amzn1.ask.account.")
    assert first["session"]["new"] is True and "attributes" not in first["session"]
    assert first["session"]["application"]["applicationId"] == "amzn1.ask.skill.1234"
    assert first["context"]["System"]["user"]["userId"] == first["session"]["user"]["userId"]
    assert first["context"]["System"]["device"]["supportedInterfaces"] == {"AudioPlayer": {}}
    later = env.SessionInfo(new=False, attributes={"n": 2})
    resolution = model.resolve("how do i make lasagna")
    intent = env.intent_request(identity, later, "en-GB", resolution.intent, resolution.slots,
                                dialog_state="STARTED")
    assert intent["session"]["new"] is False and intent["session"]["attributes"] == {"n": 2}
    assert intent["request"]["dialogState"] == "STARTED"
    assert intent["request"]["intent"]["confirmationStatus"] == "NONE"
    assert intent["request"]["intent"]["slots"]["dish"]["source"] == "USER"
    no_dialog = env.intent_request(identity, later, "en-GB", "AMAZON.HelpIntent", model.empty_slots("RecipeIntent"))
    assert "dialogState" not in no_dialog["request"]
    assert no_dialog["request"]["intent"]["slots"] == {"dish": {"name": "dish", "confirmationStatus": "NONE"}}
    json.dumps(intent)   # JSON-ready


# ------------------------------------------------------------------ sessions
def test_launch_then_attributes_carry_over(conv: Conversation, recorder: Recorder) -> None:
    first = conv.launch()
    assert first.request_type == "LaunchRequest" and first.speech == "Welcome to Kitchen Helper & friends."
    assert first.reprompt == "What shall we cook?" and first.end_session is False
    second = conv.say("how do i make flapjacks")
    assert second.speech == "Here is flapjacks. Count 2."
    assert second.card == {"title": "Recipe", "content": "flapjacks"}
    assert second.slots == {"dish": {"value": "flapjacks", "name": "pancakes", "id": "PANCAKES"}}
    launch_event, intent_event = recorder.events
    assert intent_event["session"]["sessionId"] == launch_event["session"]["sessionId"]
    assert intent_event["session"]["new"] is False
    assert intent_event["session"]["attributes"] == {"count": 1}
    assert set(second.record()) == set(RECORD_KEYS)


def test_session_end_then_one_shot_in_new_session(conv: Conversation, recorder: Recorder) -> None:
    conv.launch()
    stop = conv.say("stop")
    assert stop.end_session is True and stop.speech == "Goodbye." and conv.session is None
    nxt = conv.say("give me a tip")
    assert nxt.request_type == "IntentRequest" and nxt.intent == "TipIntent"
    assert [e["request"]["type"] for e in recorder.events] == ["LaunchRequest", "IntentRequest", "IntentRequest"]
    assert recorder.events[2]["session"]["new"] is True
    assert recorder.events[2]["session"]["sessionId"] != recorder.events[0]["session"]["sessionId"]
    assert nxt.end_session is True   # shouldEndSession omitted on a voice-only device


def test_missing_response_ends_session(model: InteractionModel) -> None:
    conv = Conversation(model, InProcessTarget(lambda event, context: {"version": "1.0"}))
    turn = conv.say("give me a tip")
    assert turn.end_session is True and turn.speech == "" and conv.session is None


def test_exit_sends_session_ended(conv: Conversation, recorder: Recorder) -> None:
    conv.launch()
    turn = conv.say("exit")
    assert turn.request_type == "SessionEndedRequest" and turn.end_session and conv.session is None
    assert recorder.events[-1]["request"]["reason"] == "USER_INITIATED"
    assert conv.say("quit").request_type is None   # nothing to end
    assert len(recorder.events) == 2


def test_invocation_forms_in_conversation(conv: Conversation, recorder: Recorder) -> None:
    conv.say("open kitchen helper")
    first_session = recorder.events[-1]["session"]["sessionId"]
    turn = conv.say("ask kitchen helper for a recipe for tiramisu")
    assert turn.intent == "RecipeIntent" and turn.slots["dish"]["id"] == "TIRAMISU"
    assert recorder.events[-1]["session"]["new"] is True
    assert recorder.events[-1]["session"]["sessionId"] != first_session


def test_elicit_slot_and_dialog_state(model: InteractionModel, recorder: Recorder) -> None:
    data = json.loads(FIXTURE.read_text())
    data["interactionModel"]["dialog"] = {"intents": [{"name": "RecipeIntent", "slots": []}]}
    conv = Conversation(InteractionModel(data), InProcessTarget(recorder))
    conv.launch()
    asked = conv.say("give me a recipe")          # fuzzy, no dish
    assert asked.intent == "RecipeIntent" and asked.speech == "Which dish?" and not asked.end_session
    answered = conv.say("hotcakes")
    assert answered.intent == "RecipeIntent" and answered.slots["dish"]["id"] == "PANCAKES"
    states = [e["request"].get("dialogState") for e in recorder.events]
    assert states == [None, "STARTED", "IN_PROGRESS"]


def test_silence_reprompts_then_ends(conv: Conversation, recorder: Recorder) -> None:
    conv.launch()
    first = conv.silence()
    assert first.request is None and first.speech == "What shall we cook?"
    second = conv.silence()
    assert second.request_type == "SessionEndedRequest" and conv.session is None
    assert recorder.events[-1]["request"]["reason"] == "EXCEEDED_MAX_REPROMPTS"


def test_direct_intent_and_can_fulfill(conv: Conversation, recorder: Recorder) -> None:
    turn = conv.intent("RecipeIntent", {"dish": "mac and cheese"})
    assert turn.slots["dish"]["id"] == "MAC_CHEESE"
    check = conv.can_fulfill("how do i make tiramisu")
    assert check.request_type == "CanFulfillIntentRequest"
    assert recorder.events[-1]["request"]["type"] == "CanFulfillIntentRequest"
    assert any('"canFulfill": "YES"' in note for note in check.notes)


def test_no_match_without_fallback_sends_nothing(recorder: Recorder) -> None:
    data = json.loads(FIXTURE.read_text())
    lm = data["interactionModel"]["languageModel"]
    lm["intents"] = [i for i in lm["intents"] if i["name"] != "AMAZON.FallbackIntent"]
    conv = Conversation(InteractionModel(data), InProcessTarget(recorder))
    turn = conv.say("what's the capital of france")
    assert turn.request_type is None and turn.intent is None and recorder.events == []
    assert conv.session is None


def test_skill_exception_is_one_line_target_error(model: InteractionModel) -> None:
    def broken(event: dict, context: Any) -> dict:
        raise KeyError("oops")
    conv = Conversation(model, InProcessTarget(broken))
    with pytest.raises(TargetError) as info:
        conv.launch()
    assert "\n" not in str(info.value) and "KeyError" in str(info.value)
    assert "Traceback" in info.value.detail and conv.session is None


def test_notes_flag_what_alexa_would_reject(model: InteractionModel) -> None:
    def loud(event: dict, context: Any) -> dict:
        speech = {"type": "SSML", "ssml": "x" * (MAX_SPEECH_CHARS + 1)}
        return {"version": "1.0", "response": {"outputSpeech": speech, "shouldEndSession": False}}
    notes = Conversation(model, InProcessTarget(loud)).launch().notes
    assert any("not wrapped in <speak>" in note for note in notes)
    assert f"outputSpeech is {MAX_SPEECH_CHARS + 1} characters (limit {MAX_SPEECH_CHARS})" in notes
    assert "session kept open without a reprompt" in notes


def test_ssml_to_plain_and_espeak() -> None:
    ssml = ('<speak>Hi <break time="1s"/><amazon:emotion name="excited">Tom &amp; Jerry</amazon:emotion>. '
            '<sub alias="World Wide Web">WWW</sub> <say-as interpret-as="spell-out">abc</say-as> '
            '<say-as interpret-as="digits">911</say-as> <prosody rate="slow" pitch="high">slow</prosody> '
            '<audio src="https://example.com/a.mp3"/></speak>')
    assert plain_text(ssml) == "Hi Tom & Jerry. World Wide Web abc 911 slow"
    assert plain_text("<speak><p>one</p><p>two<break/>three</p> it<emphasis>'s</emphasis></speak>") == \
        "one two three it's"
    assert plain_text(None) == plain_text("") == ""
    espeak = to_espeak(ssml)
    assert "amazon:" not in espeak and "audio" not in espeak and "sub" not in espeak
    assert '<prosody rate="slow">slow</prosody>' in espeak
    assert '<say-as interpret-as="characters">abc</say-as>' in espeak and "9 1 1" in espeak
    assert '<break time="1s"/>' in espeak and espeak.startswith("<speak>")


# ------------------------------------------------------------------ HTTP target
class _SkillHTTP(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/broken":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"Internal\nServer Error")
            return
        if self.path == "/page":   # a page that takes no POST, as the dev server's / is
            self.send_response(405)
            self.end_headers()
            return
        reply = json.dumps(skill_handler(json.loads(body), None)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SkillHTTP)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_http_target_conversation(model: InteractionModel, http_url: str) -> None:
    conv = Conversation(model, HttpTarget(http_url + "/"))
    conv.launch()
    assert conv.say("how do i make tiramisu").speech == "Here is tiramisu. Count 2."


def test_http_non_200_and_down_server(model: InteractionModel, http_url: str) -> None:
    with pytest.raises(TargetError, match=r"HTTP 500 .*Internal Server Error") as info:
        Conversation(model, HttpTarget(http_url + "/broken")).launch()
    assert "\n" not in str(info.value)
    url = f"http://127.0.0.1:{_free_port()}/"
    with pytest.raises(TargetError, match=r"cannot reach .* connection refused") as info:
        Conversation(model, HttpTarget(url, timeout=2)).launch()
    assert "\n" not in str(info.value)


def test_cli_down_server_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_free_port()}/"
    code = cli.main(["--model", str(FIXTURE), "--url", url, "help"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.strip().count("\n") == 0 and captured.err.startswith("error: cannot reach")


# ------------------------------------------------------------------ CLI
def run_cli(args: list[str], capsys: pytest.CaptureFixture[str], handler: Any = skill_handler) -> tuple[int, str, str]:
    code = cli.main(["--model", str(FIXTURE), *args], handler=handler)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_json_lines_have_exact_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["--json", "how do i make flapjacks", "what's the capital of france", "stop"], capsys)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["request_type"] for line in lines] == ["LaunchRequest", "IntentRequest", "IntentRequest",
                                                       "IntentRequest"]
    assert all(set(line) == set(RECORD_KEYS) for line in lines)
    assert lines[0]["utterance"] == "open kitchen helper"
    assert lines[1]["slots"]["dish"] == {"value": "flapjacks", "name": "pancakes", "id": "PANCAKES"}
    assert lines[2]["intent"] == "AMAZON.FallbackIntent"
    assert lines[3]["end_session"] is True and lines[3]["speech"] == "Goodbye."


def test_cli_no_auto_launch_for_invocation_forms(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(["--json", "ask kitchen helper to give me a tip"], capsys)
    (line,) = [json.loads(x) for x in out.splitlines()]
    assert line["intent"] == "TipIntent" and line["end_session"] is True


def test_cli_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["how do i make hotcakes", "stop"], capsys)
    assert code == 0
    assert "> open kitchen helper" in out and "Alexa: Welcome to Kitchen Helper & friends." in out
    assert "> how do i make hotcakes" in out and "[RecipeIntent dish=hotcakes->pancakes]" in out
    assert "Alexa: Goodbye." in out and "[session ended]" in out


def test_cli_setup_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = cli.main(["--model", str(tmp_path / "missing.json"), "help"], handler=skill_handler)
    assert code == 2 and "no interaction model" in capsys.readouterr().err
    code = cli.main(["--model", str(FIXTURE), "--handler", "no_such_module_xyz:handler", "help"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: cannot import no_such_module_xyz")


def test_cli_interactive(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                         tmp_path: Path) -> None:
    monkeypatch.setattr(cli, "HISTORY_FILE", tmp_path / "history")
    lines = ".help\nopen kitchen helper\n.json\nhow do i make tiramisu\n.json\n.why give me a cooking tip\n" \
            ".session\n.intent RecipeIntent dish=\"mac n cheese\"\n.bogus\nexit\n.quit\nnever reached\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    code, out, err = run_cli([], capsys)
    assert code == 0 and err == ""
    assert ".intent NAME" in out and "Alexa: Welcome" in out
    assert '"type": "IntentRequest"' in out           # raw request shown while .json is on
    assert "TipIntent" in out and "unknown command" in out
    assert "[RecipeIntent dish=mac n cheese->macaroni and cheese]" in out
    assert "[SessionEndedRequest]" in out and "never reached" not in out


def test_cli_interactive_eof(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                             tmp_path: Path) -> None:
    monkeypatch.setattr(cli, "HISTORY_FILE", tmp_path / "history")
    monkeypatch.setattr(sys, "stdin", io.StringIO("give me a tip\n"))
    code, out, _ = run_cli([], capsys)
    assert code == 0 and "Alexa: Salt the pasta water." in out


def test_cli_subprocess_with_handler_option(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--model", str(FIXTURE), "--json",
         "--handler", "tests.test_simulator_cli:skill_handler", "give me a tip"],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["request_type"] for line in lines] == ["LaunchRequest", "IntentRequest"]


def test_missing_espeak_is_clear_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    for option in (["--speak"], ["--wav", str(tmp_path / "wavs")]):
        code, out, err = run_cli([*option, "help"], capsys)
        assert code == 2 and out == ""
        assert err.strip() == "error: espeak-ng not found; install it with: apt-get install espeak-ng"


@pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng not installed")
def test_wav_files_per_turn(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(["--wav", str(tmp_path), "how do i make tiramisu", "stop"], capsys)
    assert code == 0, err
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["turn-01.wav", "turn-02.wav", "turn-03.wav"]
    assert all(p.read_bytes()[:4] == b"RIFF" and p.stat().st_size > 1000 for p in tmp_path.iterdir())


@pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng not installed")
def test_espeak_reads_markup_not_tags(tmp_path: Path) -> None:
    from simulator.speech import markup, speak
    tagged, bare = tmp_path / "tagged.wav", tmp_path / "bare.wav"
    speak(markup('<speak><amazon:effect name="whispered">hello</amazon:effect></speak>', "hello"), "en-US",
          wav=tagged)
    speak(markup(None, "hello"), "en-US", wav=bare)
    # Tags read aloud would make the tagged file several times longer.
    assert tagged.stat().st_size < 2 * bare.stat().st_size


def test_ssml_to_browser_segments() -> None:
    ssml = ('<speak><prosody rate="85%"><say-as interpret-as="characters">PSA</say-as> &amp; '
            '<say-as interpret-as="telephone">9-1-1</say-as>, <sub alias="doctor">Dr.</sub> now. '
            '<break time="1.5s"/><break strength="weak"/>Then <prosody rate="x-slow">slowly</prosody> on.'
            '</prosody><break time="300ms"/></speak>')
    assert to_segments(ssml) == [
        {"text": "P S A & 9 1 1, doctor now.", "rate": 0.85, "pause_ms": 0},
        {"text": "Then", "rate": 0.85, "pause_ms": 1750},
        {"text": "slowly", "rate": 0.5, "pause_ms": 0},
        {"text": "on.", "rate": 0.85, "pause_ms": 0},
    ]   # a trailing pause is dropped: nothing follows it
    assert to_segments(None) == [] and to_segments("<speak></speak>") == []
    assert to_segments("<speak>plain</speak>") == [{"text": "plain", "rate": 1.0, "pause_ms": 0}]


@pytest.mark.parametrize("ssml, percent", [
    ('<speak><prosody rate="85%">x</prosody></speak>', 85),
    ('<speak> <prosody rate="slow">x</prosody></speak>', 75),
    ('<speak>x <prosody rate="50%">y</prosody></speak>', 100),   # only part of it: the pace is normal
    ('<speak><prosody volume="loud">x</prosody></speak>', 100),
    ('<speak><prosody rate="fastest">x</prosody></speak>', 100),
    ("<speak>x</speak>", 100),
    (None, 100),
])
def test_pace_of_a_reply(ssml: str | None, percent: int) -> None:
    assert pace(ssml) == percent


def test_rates_and_breaks() -> None:
    assert [rate_percent(v) for v in ("85%", "x-fast", "", None, "12 %")] == [85, 150, 100, 100, 100]
    assert [break_ms(a) for a in ({"time": "250ms"}, {"time": "2s"}, {"time": "60s"}, {"strength": "strong"},
                                  {}, {"time": "soon"})] == [250, 2000, 10000, 750, 400, 400]


# ------------------------------------------------------------------ newcomer's mistakes and the real skill
def test_locale_ignores_case_and_an_unknown_one_lists_the_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--locale", "en-gb", "--json", "--one-shot", "my legs are numb"]) == 0
    line = [json.loads(x) for x in capsys.readouterr().out.splitlines()][-1]
    assert line["card"]["title"] == "Call 999 now"   # the en-GB model and number
    assert cli.main(["--locale", "xx-XX", "help"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("error: unknown locale 'xx-XX'; use one of: en-AU, en-CA, en-GB, en-IN, en-US "
                           "(or --model PATH)")


def test_url_without_scheme_gets_http(capsys: pytest.CaptureFixture[str], http_url: str) -> None:
    bare = http_url.removeprefix("http://") + "/"
    assert cli.main(["--model", str(FIXTURE), "--url", bare, "give me a tip"]) == 0
    captured = capsys.readouterr()
    assert f"note: using --url http://{bare}" in captured.err and "Salt the pasta water." in captured.out
    assert cli.main(["--model", str(FIXTURE), "--url", "ftp://127.0.0.1:9/alexa", "help"]) == 2
    assert "http:// or https://" in capsys.readouterr().err


def test_a_405_hints_at_the_alexa_path(capsys: pytest.CaptureFixture[str], http_url: str) -> None:
    assert cli.main(["--model", str(FIXTURE), "--url", http_url + "/page", "help"]) == 1
    err = capsys.readouterr().err
    assert "HTTP 405" in err and f"try --url {http_url}/alexa" in err
    assert err.strip().count("\n") == 0


def test_transcript_marks_a_pace_change(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["what is a psa test", "say that slower", "what is a psa test", "normal speed"]) == 0
    out = capsys.readouterr().out
    marks = [line.strip() for line in out.splitlines() if "pace changed" in line]
    assert marks == ["[pace changed: speaking at 85%]", "[pace changed: speaking at 100%]"]
    assert out.index("[pace changed: speaking at 85%]") > out.index("> say that slower")


def test_ctrl_c_clears_the_line_and_ctrl_d_leaves(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setattr(cli, "HISTORY_FILE", tmp_path / "history")
    keys = iter([KeyboardInterrupt, "give me a tip", KeyboardInterrupt, EOFError, "never reached"])

    def typed(prompt: str = "") -> str:
        key = next(keys)
        if isinstance(key, type):
            raise key
        return key

    monkeypatch.setattr("builtins.input", typed)
    code, out, _ = run_cli([], capsys)
    assert code == 0
    assert "Alexa: Salt the pasta water." in out                  # the prompt carried on after Ctrl-C
    assert next(keys) == "never reached"                           # Ctrl-D left


FAKE_ESPEAK_NO_SOUND = """#!/bin/sh
cat >/dev/null
echo "ALSA lib confmisc.c:855:(parse_card) cannot find card '0'" >&2
echo "ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default" >&2
exit 0
"""


def test_speak_without_a_sound_device_says_so_once_with_the_wav_hint(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fake = tmp_path / "espeak-ng"   # exits 0 like the real one when ALSA has no card
    fake.write_text(FAKE_ESPEAK_NO_SOUND)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = run_cli(["--speak", "give me a tip", "how do i make tiramisu"], capsys)
    assert code == 0 and "Alexa: Salt the pasta water." in out
    assert err.count("error:") == 1, err
    assert "could not play the audio (cannot find card '0')" in err and "--wav DIR" in err


@pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng not installed")
def test_wav_prints_the_paths_it_wrote(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run_cli(["--wav", str(tmp_path), "give me a tip"], capsys)
    assert code == 0
    written = re.findall(r"\[wrote (.+\.wav)\]", out)
    assert written == [str(tmp_path / "turn-01.wav"), str(tmp_path / "turn-02.wav")]
    assert all(Path(path).is_file() for path in written)
    code, out, err = run_cli(["--json", "--wav", str(tmp_path / "j"), "give me a tip"], capsys)
    assert [json.loads(line)["intent"] for line in out.splitlines()] == [None, "TipIntent"]   # stdout stays JSON
    assert err.count("[wrote ") == 2


@pytest.mark.parametrize("value", ["200", "-5", "nan", "high"])
def test_threshold_outside_0_to_100_is_a_clear_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--model", str(FIXTURE), "--threshold", value, "blah blah"], handler=skill_handler)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err
    assert f"argument --threshold: '{value}' is not a score from 0 to 100" in err


def test_thresholds_at_the_ends_of_the_range_are_taken(capsys: pytest.CaptureFixture[str]) -> None:
    for value in ("0", "100"):
        assert cli.main(["--model", str(FIXTURE), "--threshold", value, "--json", "give me a tip"],
                        handler=skill_handler) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["intent"] for line in lines if line["request_type"] == "IntentRequest"] == ["TipIntent"] * 2


def test_a_reader_that_leaves_early_gets_no_traceback() -> None:
    """`python -m simulator ... | head -1`: the pipe closes before the CLI is done writing."""
    read, write = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "--model", str(FIXTURE),
                             "--handler", "tests.test_simulator_cli:skill_handler", "give me a tip", "stop"],
                            cwd=REPO, stdout=write, stderr=subprocess.PIPE, text=True)
    os.close(write)
    os.close(read)   # gone before the first line is written: every write meets a closed pipe
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert proc.returncode == 141
