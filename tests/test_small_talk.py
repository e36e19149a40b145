"""Small talk: "hello", "thank you", "how are you" get a short friendly reply with the help hint.

Alexa sends an utterance no sample covers to the fallback, without its words,
so the only way to answer a greeting kindly is an intent with samples in the
model. These go through the model (the simulator's NLU on every locale's model)
and through the skill as full envelopes.
"""
from __future__ import annotations

import pytest

import lambda_handler
from deploy.models import MODELS_DIR
from simulator.client import Conversation, InProcessTarget
from simulator.nlu import InteractionModel
from skill.content import CONTENT
from testkit import envelopes as E
from testkit.envelopes import LOCALES
from tests.conftest import card, ends, reprompt, speech

GREETING, THANKS = "GreetingIntent", "ThanksIntent"
SAID = {"hello": GREETING, "hello there": GREETING, "hi": GREETING, "good morning": GREETING,
        "how are you": GREETING, "thank you": THANKS, "thanks": THANKS, "thanks a lot": THANKS}


def conversation(locale: str) -> Conversation:
    model = InteractionModel.load(MODELS_DIR / f"{locale}.json")
    return Conversation(model, InProcessTarget(lambda_handler.handler), locale=locale)


def reply_for(intent: str) -> str:
    return CONTENT.small_talk_by_intent[intent].reply


@pytest.mark.parametrize("locale", LOCALES)
def test_greetings_and_thanks_reach_their_intent_and_a_friendly_reply(locale):
    talk = conversation(locale)
    talk.launch()
    for utterance, intent in SAID.items():
        turn = talk.say(utterance)
        assert turn.intent == intent, (locale, utterance, turn.intent)
        said = turn.record()["speech"]
        assert said.startswith(("Hello", "You're welcome")) and "say help" in said.lower(), said
        assert not turn.end_session


@pytest.mark.parametrize("intent", [GREETING, THANKS])
def test_the_reply_is_short_keeps_the_session_open_and_hints_at_help(send, intent):
    response = E.Dialog(send).intent(intent)
    said = speech(response)
    template = CONTENT.prompts[reply_for(intent)]
    assert said.startswith(template.split("{")[0].strip()) and "help" in said
    assert len(said.split()) <= 40 and said.rstrip().endswith(("?", "."))
    assert not ends(response) and reprompt(response) and card(response) is None


def test_small_talk_keeps_the_topic_for_tell_me_more(send):
    dialog = E.Dialog(send)
    topic = CONTENT.topic_by_intent["PsaTestIntent"]
    dialog.intent(topic.intent)
    dialog.intent(THANKS)
    assert speech(dialog.intent("TellMeMoreIntent")).startswith(topic.more)


@pytest.mark.parametrize("intent", [GREETING, THANKS])
def test_can_fulfill_declines_small_talk(send, intent):
    response = send(E.envelope(E.can_fulfill(intent)))
    assert response["response"]["canFulfillIntent"] == {"canFulfill": "NO"}


def test_hello_is_no_longer_sorry_i_cant_help():
    """Before the model had these intents, "hello" reached the fallback and "hello there" a research answer."""
    talk = conversation("en-US")
    talk.launch()
    for utterance in ("hello", "hello there"):
        said = talk.say(utterance).record()["speech"]
        assert "Sorry" not in said and "Researchers" not in said, said
