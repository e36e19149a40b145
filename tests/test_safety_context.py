"""After an emergency, urgent or crisis reply, the next turns still serve it (issue 20: H3, M8).

Every turn is a full envelope through the Lambda entry, carrying the session
attributes the previous response sent back, the way Alexa does; the
conversations by voice go through the simulator's NLU as well.
"""
from __future__ import annotations

import pytest

import lambda_handler
from simulator.client import Conversation, InProcessTarget
from skill import replies
from skill.content import CONTENT
from skill.speech import plain_text
from testkit import envelopes as E
from tests.test_safety import LOCALES, grade, model

SAFETY_INTENTS = {"EmergencyIntent": "emergency", "UrgentCareIntent": "urgent", "CancerTeamIntent": "cancer_team",
                  "CrisisIntent": "crisis", "CrisisDangerIntent": "crisis"}


def send(envelope: dict) -> dict:
    return lambda_handler.handler(envelope, None)


def said(response: dict) -> str:
    return plain_text(response["response"]["outputSpeech"]["ssml"])


def reprompt(response: dict) -> str:
    return plain_text(response["response"]["reprompt"]["outputSpeech"]["ssml"])


def after(intent: str, locale: str = "en-US") -> E.Dialog:
    dialog = E.Dialog(send, locale=locale)
    dialog.launch()
    dialog.intent(intent)
    return dialog


def full_reply(intent: str, locale: str) -> str:
    kind = {"EmergencyIntent": replies.EMERGENCY, "UrgentCareIntent": replies.URGENT,
            "CancerTeamIntent": replies.CANCER_TEAM, "CrisisIntent": replies.CRISIS,
            "CrisisDangerIntent": replies.CRISIS_DANGER}[intent]
    return plain_text(replies.safety_reply(kind, locale).speech)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("intent", sorted(SAFETY_INTENTS))
@pytest.mark.parametrize("again", ["AMAZON.YesIntent", "AMAZON.RepeatIntent", "SafetyNumberIntent"])
def test_yes_repeat_and_what_was_the_number_say_it_all_again(locale, intent, again):
    dialog = after(intent, locale)
    response = dialog.intent(again)
    assert said(response) == full_reply(intent, locale)
    assert grade(locale, said(response)) == SAFETY_INTENTS[intent]
    assert response["response"]["shouldEndSession"] is False
    # ...and it holds for a second time round.
    assert said(dialog.intent("AMAZON.RepeatIntent")) == full_reply(intent, locale)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("intent", sorted(SAFETY_INTENTS))
@pytest.mark.parametrize("closer", ["AMAZON.StopIntent", "AMAZON.CancelIntent"])
def test_stop_says_the_number_once_more_before_goodbye(locale, intent, closer):
    info = CONTENT.locale(locale)
    response = after(intent, locale).intent(closer)
    text = said(response)
    assert response["response"]["shouldEndSession"] is True
    assert text.endswith("Take care. Goodbye.")
    number = info.crisis_spoken if intent == "CrisisIntent" else info.emergency_spoken
    if intent in ("UrgentCareIntent",):
        assert info.urgent_short in text, text
    elif intent == "CancerTeamIntent":
        assert "cancer team" in text, text
    else:
        assert number in text, text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("intent", ["EmergencyIntent", "CrisisIntent"])
@pytest.mark.parametrize("other", ["AMAZON.HelpIntent", "AMAZON.NoIntent", "AMAZON.FallbackIntent"])
def test_okay_thanks_help_and_no_repeat_the_number_briefly_then_carry_on(locale, intent, other):
    info = CONTENT.locale(locale)
    dialog = after(intent, locale)
    first = dialog.intent(other)
    number = info.emergency_spoken if intent == "EmergencyIntent" else info.crisis_spoken
    lead = said(first).split(". ")[0]
    assert number in lead, said(first)                      # the number comes first
    assert grade(locale, said(first)) != "emergency"         # briefly: not the whole reply again
    assert first["response"]["shouldEndSession"] is False
    # These turns keep the reply in force: the next one still leads with it, in other words.
    second = dialog.intent("AMAZON.HelpIntent")
    assert number in said(second).split(". ")[0]
    assert said(second).split(". ")[0] != lead


@pytest.mark.parametrize("intent", sorted(SAFETY_INTENTS))
def test_a_new_question_carries_the_reminder_once_then_the_conversation_moves_on(intent):
    dialog = after(intent)
    topic = CONTENT.topics[3]
    first = said(dialog.intent(topic.intent))
    reminder_first = first.split(topic.answer_lines[0].say)[0]
    assert reminder_first.strip(), first                    # led by the short reminder
    second = said(dialog.intent(CONTENT.topics[4].intent))
    assert second.startswith(CONTENT.topics[4].answer_lines[0].say), second
    # Repeat now replays the last answer, not the safety reply.
    assert said(dialog.intent("AMAZON.RepeatIntent")) == second


def test_a_new_safety_reply_replaces_the_old_one():
    dialog = after("UrgentCareIntent")
    dialog.intent("EmergencyIntent")
    assert said(dialog.intent("AMAZON.YesIntent")) == full_reply("EmergencyIntent", "en-US")


@pytest.mark.parametrize("locale", LOCALES)
def test_no_reprompt_asks_a_question_its_yes_would_not_answer(locale):
    for intent in SAFETY_INTENTS:
        response = after(intent, locale).intent(intent)
        assert "?" not in reprompt(response), (intent, reprompt(response))
        assert "say repeat" in reprompt(response)
    assert "?" not in CONTENT.prompts["crisis_reprompt"]


def test_a_forged_safety_attribute_is_ignored():
    dialog = E.Dialog(send)
    dialog.launch()
    dialog.attributes["safety"] = "no-such-kind"
    assert said(dialog.intent("AMAZON.YesIntent")).startswith("Sure.")


def test_what_number_do_i_call_with_nothing_before_gives_the_emergency_number_once():
    response = E.Dialog(send, locale="en-GB").intent("SafetyNumberIntent")
    assert said(response).startswith("If this is an emergency, call nine nine nine now.")
    assert grade("en-GB", said(response)) == "none" and response["response"]["shouldEndSession"] is False


# ------------------------------------------------------------------- by voice, through the simulator

def conversation(locale: str) -> Conversation:
    return Conversation(model(locale), InProcessTarget(lambda_handler.handler), locale=locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_reviews_emergency_conversation_keeps_the_number(locale):
    """M8: "my legs went numb", then "okay", "thank you", "help", "stop"."""
    info = CONTENT.locale(locale)
    talk = conversation(locale)
    talk.launch()
    assert grade(locale, talk.say("my legs went numb").speech) == "emergency"
    for utterance in ("okay", "thank you", "help"):
        turn = talk.say(utterance)
        assert info.emergency_spoken in turn.speech, (utterance, turn.speech)
        assert not turn.end_session
    last = talk.say("stop")
    assert last.end_session and info.emergency_spoken in last.speech


@pytest.mark.parametrize("locale", LOCALES)
def test_the_reviews_crisis_conversation_keeps_the_line(locale):
    """H3: after the crisis reply, "yes", "what was the number", "no" and "stop" all keep the crisis line."""
    info = CONTENT.locale(locale)
    talk = conversation(locale)
    talk.launch()
    assert grade(locale, talk.say("i want to kill myself").speech) == "crisis"
    for utterance in ("yes", "what was the number", "yes please", "no"):
        turn = talk.say(utterance)
        assert info.crisis_spoken in turn.speech, (utterance, turn.speech)
        assert "bone pain" not in turn.speech
    last = talk.say("stop")
    assert last.end_session and info.crisis_spoken in last.speech
