"""No sentence is said on two consecutive turns, except when the listener asks for it again.

Seeded random walks over every intent, through the Lambda entry with real
session attributes carried from turn to turn. Repeat and "say that slower"
replay on purpose, and asking the very same thing twice in a row is a request
to hear it again, so those pairs are exempt; everything else (doctor lines,
offers, the safety net, prompts) must move on.
"""
from __future__ import annotations

import random
import re

import pytest

import lambda_handler
from skill.content import CONTENT
from testkit import envelopes as E
from tests.conftest import speech

REPLAYS = {"AMAZON.RepeatIntent", "SlowerIntent"}
CLOSING = {"AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.NavigateHomeIntent"}
TERMS = [term.id for term in CONTENT.terms]


def sentences(text: str) -> set[str]:
    return {s for s in re.split(r"(?<=[.?!])\s+", text) if s}


def step(rng: random.Random) -> tuple[str, dict]:
    """A random next request: mostly what a listener does after an answer."""
    pick = rng.random()
    if pick < 0.35:
        return rng.choice(("AMAZON.YesIntent", "TellMeMoreIntent", "AMAZON.NoIntent")), {}
    if pick < 0.6:
        return rng.choice(CONTENT.topics).intent, {}
    if pick < 0.75:
        term = rng.choice(TERMS)
        return CONTENT.glossary_intent, {"term": E.slot("term", term.lower(), er_id=term)}
    names = [n for n in CONTENT.all_intents if n not in CLOSING | set(CONTENT.topic_by_intent)]
    return rng.choice(names), {}


@pytest.mark.parametrize("seed", range(40))
def test_no_sentence_repeats_on_consecutive_turns(seed):
    rng = random.Random(seed)
    dialog = E.Dialog(lambda env: lambda_handler.handler(env, None))
    previous, previous_key = sentences(speech(dialog.launch())), ("launch", None)
    for _ in range(25):
        name, slots = step(rng)
        response = dialog.intent(name, **slots)
        shown = response["response"].get("card")
        key = (shown["title"], None) if shown else (name, None)  # what was answered, however asked
        # A consent request hands the turn to Alexa: the skill itself says nothing.
        heard = sentences(speech(response)) if "outputSpeech" in response["response"] else set()
        if name in REPLAYS:
            key = previous_key  # a replay is the last answer again: asking that next is a re-ask
        elif key != previous_key:
            assert not heard & previous, (seed, previous_key, key, heard & previous)
        previous, previous_key = heard, key


def test_tell_me_more_then_yes_never_repeats_the_doctor_line_or_the_offer():
    """The case a medical review found: 19 of 21 topics repeated the doctor line."""
    for topic in CONTENT.topics:
        dialog = E.Dialog(lambda env: lambda_handler.handler(env, None))
        dialog.intent(topic.intent)
        more = sentences(speech(dialog.intent("TellMeMoreIntent")))
        yes = sentences(speech(dialog.intent("AMAZON.YesIntent")))
        assert not more & yes, (topic.id, more & yes)
