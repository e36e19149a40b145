"""The simulator against our real skill and models: what a developer sees before deploying."""
from __future__ import annotations

import io
import json
import shutil
import wave

import pytest

import lambda_handler
from skill.content import CONTENT
from simulator import cli
from simulator.client import Conversation, InProcessTarget
from simulator.nlu import InteractionModel
from deploy.models import MODELS_DIR
from testkit.envelopes import LOCALES


def run_cli(*argv: str) -> list[dict]:
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["--json", *argv], stdout=out, stderr=err) == 0, err.getvalue()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def conversation(locale: str = "en-US") -> Conversation:
    model = InteractionModel.load(MODELS_DIR / f"{locale}.json")
    return Conversation(model, InProcessTarget(lambda_handler.handler), locale=locale)


def test_one_shot_question_goes_straight_to_the_intent():
    (turn,) = run_cli("--one-shot", "what's a psa test")
    assert turn["request_type"] == "IntentRequest" and turn["intent"] == "PsaTestIntent"
    assert turn["speech"].startswith("PSA stands for prostate-specific antigen")
    assert set(turn) == {"utterance", "request_type", "intent", "slots", "speech", "ssml",
                         "reprompt", "card", "end_session", "directives", "reminders"}
    assert turn["directives"] == [] and turn["reminders"] == []


def test_a_whole_conversation_by_voice():
    turns = run_cli("open back pain guide", "where does prostate cancer spread", "yes",
                    "say that slower", "tell me more", "what does zometa mean", "stop")
    assert [t["intent"] for t in turns] == [None, "WhereItSpreadsIntent", "AMAZON.YesIntent", "SlowerIntent",
                                            "TellMeMoreIntent", "GlossaryIntent", "AMAZON.StopIntent"]
    assert turns[0]["request_type"] == "LaunchRequest"
    assert turns[2]["speech"].startswith(CONTENT.topic_by_id["how_common"].answer)
    assert turns[3]["ssml"].startswith('<speak><prosody rate="85%">')
    assert turns[4]["ssml"].startswith('<speak><prosody rate="85%">')  # the pace is kept
    assert turns[5]["slots"]["term"]["id"] == "ZOMETA"
    assert turns[-1]["end_session"] and not any(t["end_session"] for t in turns[:-1])


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("accept", ["go on", "yeah go on", "go on then"])
def test_go_on_after_an_offer_hears_what_was_offered(locale, accept):
    """In British and Australian speech "go on" is "yes please": it takes the offer, not more of the last answer."""
    talk = conversation(locale)
    talk.say("where does prostate cancer spread")
    turn = talk.say(accept)
    assert turn.intent == "AMAZON.YesIntent"
    assert turn.speech.startswith(CONTENT.topic_by_id["how_common"].answer)


def test_righto_in_australian_english_takes_the_offer():
    """"Righto" is an Australian yes (an en-AU sample of AMAZON.YesIntent): it takes the offer."""
    talk = conversation("en-AU")
    talk.say("where does prostate cancer spread")
    turn = talk.say("righto")
    assert turn.intent == "AMAZON.YesIntent"
    assert turn.speech.startswith(CONTENT.topic_by_id["how_common"].answer)


def test_which_is_given_more_often_compares_the_two_drugs():
    """A comparison worded as a question about schedules hears both drugs' schedules, not one drug's answer."""
    turn = conversation().say("which one is given more often zoledronic acid or denosumab")
    assert turn.intent == CONTENT.two_terms.compare_intent
    assert "every three to four weeks" in turn.speech and "every four weeks" in turn.speech


def test_a_built_in_phrase_near_a_sample_word_still_reaches_the_built_in():
    """"Let's start over" is Amazon's StartOverIntent, whatever the crisis samples say about "over"."""
    assert conversation().say("okay let's start over").intent == "AMAZON.StartOverIntent"


@pytest.mark.parametrize("locale, spoken", [("en-US", "nine one one"), ("en-GB", "nine nine nine"),
                                            ("en-AU", "triple zero"), ("en-IN", "one one two"),
                                            ("en-CA", "nine one one")])
def test_red_flags_reach_the_emergency_answer_in_every_locale(locale, spoken):
    turn = conversation(locale).say("ask back pain guide i suddenly can't feel my legs")
    assert turn.intent == "EmergencyIntent"
    assert turn.record()["speech"].count(f"call {spoken} now") == 2 and not turn.end_session


def test_every_locale_model_loads_cleanly():
    for locale in LOCALES:
        assert InteractionModel.load(MODELS_DIR / f"{locale}.json").warnings == []


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_answers_can_be_written_as_wav(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["--wav", str(tmp_path), "what is denosumab"], stdout=out, stderr=err) == 0, err.getvalue()
    files = sorted(tmp_path.glob("*.wav"))
    assert len(files) == 2  # the launch and the answer
    with wave.open(str(files[1])) as audio:
        assert audio.getnframes() / audio.getframerate() > 3  # a real spoken answer, seconds long
