"""What Amazon's certification checks, swept over every intent, locale and state.

Data-driven from the interaction models, so a new intent is covered the day
it is added. Every request goes through the Lambda entry as a full envelope.

Session rules (Amazon's functional and voice-interface requirements):
- a response that keeps the session open asks or prompts, and has a reprompt;
- a response that closes it never ends on a question;
- Stop and Cancel close from every state;
- silence after the reprompt ends the session (SessionEndedRequest), silently;
- nothing calls the skill an "app"; no turn runs past about 125 words.

And every phrase the skill suggests (help, prompts, reprompts, offers) is an
utterance the model has, so what we tell people to say works on a device.
"""
from __future__ import annotations

import json
import re
from functools import cache
from itertools import product

import pytest

import lambda_handler
from deploy.models import MODELS_DIR
from skill.content import CONTENT
from skill.speech import plain_text
from testkit import envelopes as E

LOCALES = tuple(CONTENT.locales)
MAX_WORDS = 125
CLOSERS = ("AMAZON.StopIntent", "AMAZON.CancelIntent")
# Phrases Alexa itself supplies for the built-ins the skill suggests by name.
BUILT_IN_PHRASES = {"help": "AMAZON.HelpIntent", "repeat": "AMAZON.RepeatIntent", "yes": "AMAZON.YesIntent",
                    "no": "AMAZON.NoIntent", "stop": "AMAZON.StopIntent", "start over": "AMAZON.StartOverIntent"}


@cache
def language_model(locale: str) -> dict:
    return json.loads((MODELS_DIR / f"{locale}.json").read_text(encoding="utf-8"))["interactionModel"]["languageModel"]


def send(envelope: dict) -> dict:
    return lambda_handler.handler(envelope, None)


def slots_for(intent: dict) -> dict:
    """A plausible value for each slot: the first value of its custom type."""
    types = {t["name"]: t for t in language_model("en-US")["types"]}
    filled = {}
    for slot in intent.get("slots", []):
        value = types[slot["type"]]["values"][0]
        filled[slot["name"]] = E.slot(slot["name"], value["name"]["value"], er_id=value.get("id"))
    return filled


def states(locale: str):
    """(name, dialog) pairs: the states a request can arrive in."""
    def fresh():
        return E.Dialog(send, locale=locale)

    def after_launch():
        dialog = fresh()
        dialog.launch()
        return dialog

    def after_offer():
        dialog = fresh()
        dialog.intent(CONTENT.topics[0].intent)
        return dialog

    def after_more():
        dialog = after_offer()
        dialog.intent("TellMeMoreIntent")
        return dialog

    return {"one-shot": fresh, "after launch": after_launch, "after an offer": after_offer,
            "after tell me more": after_more}


def speech_of(response: dict) -> str | None:
    output = response["response"].get("outputSpeech")
    return plain_text(output["ssml"]) if output else None


def hands_over_to_alexa(response: dict) -> bool:
    """A consent request: Alexa speaks next, not the skill."""
    return any(d.get("type", "").startswith("Connections.") for d in response["response"].get("directives", []))


def assert_session_rules(response: dict, where: str) -> None:
    body = response["response"]
    said = speech_of(response)
    if hands_over_to_alexa(response):
        return
    assert said, where
    assert len(said.split()) <= MAX_WORDS, (where, len(said.split()))
    assert not re.search(r"\bapps?\b", said.replace("Alexa app", "").lower()), (where, said)
    if body.get("shouldEndSession") is False:
        reprompt = plain_text(body["reprompt"]["outputSpeech"]["ssml"])
        assert reprompt, where
        assert "?" in said or re.search(r"\b(say|ask)\b", said.lower()), (where, said)
    else:
        assert body.get("shouldEndSession") is True, where
        assert not said.rstrip().endswith("?"), (where, said)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_intent_in_every_state_follows_the_session_rules(locale):
    intents = language_model(locale)["intents"]
    for (state, make), intent in product(states(locale).items(), intents):
        dialog = make()
        response = dialog.intent(intent["name"], **slots_for(intent))
        where = f"{locale} {state} {intent['name']}"
        assert_session_rules(response, where)
        if intent["name"] in CLOSERS:
            assert response["response"]["shouldEndSession"] is True, where
        if response["response"].get("shouldEndSession") is False and not hands_over_to_alexa(response):
            # Silence after the reprompt: Alexa ends the session and the skill says nothing.
            ended = dialog.request(E.session_ended("EXCEEDED_MAX_REPROMPTS", locale))
            assert "outputSpeech" not in ended["response"], where


@pytest.mark.parametrize("locale", LOCALES)
def test_launch_follows_the_session_rules_and_the_welcome_is_short(locale):
    response = E.Dialog(send, locale=locale).launch()
    assert_session_rules(response, f"{locale} launch")
    assert len(speech_of(response).split()) <= 50


def test_the_sweep_would_catch_a_closing_question():
    with pytest.raises(AssertionError):
        assert_session_rules({"response": {"outputSpeech": {"ssml": "<speak>Bye?</speak>"},
                                           "shouldEndSession": True}}, "probe")
    with pytest.raises(AssertionError):
        assert_session_rules({"response": {"outputSpeech": {"ssml": "<speak>Open the app.</speak>"},
                                           "shouldEndSession": True}}, "probe")


# --------------------------------------------------------------------------- suggestions

def suggestions(text: str) -> list[str]:
    """Phrases a prompt tells the listener to say: "ask, X, or, Y", "say, X", "say X, Y, or say Z"."""
    found = []
    for quoted in re.findall(r"\b(?:ask|say|like),\s+([^.?!]+)", text, flags=re.I):
        found += [p for p in re.split(r",\s*or,\s*", quoted)]
    for listed in re.findall(r"\bsay ([a-z][a-z ,]+?)[.?!]", text):
        if "," in listed:                                            # say tell me more, repeat, or say that slower
            found += [re.sub(r"^or\s+", "", p.strip()) for p in listed.split(",")]   # "say that slower" is the phrase
    found += re.findall(r"\bsay (\w+) to\b", text)                  # say help to hear some ideas
    found += [m for m in re.findall(r"\bsay ([a-z ]+?)\.", text) if m in BUILT_IN_PHRASES]
    return [" ".join(re.sub(r"[^a-z' ]", " ", p.lower()).split()) for p in found if p.strip()]


def all_suggestions() -> set[str]:
    prompts = [v for v in CONTENT.prompts.values() if isinstance(v, str)]
    offers = [CONTENT.prompts["offer"].format(label=t.label) for t in CONTENT.topics]
    return {s for text in prompts for s in suggestions(text)} | ({"yes", "no"} if offers else set())


def understood(phrase: str, model: dict) -> bool:
    """A literal sample, a slot sample filled with one of its values or synonyms, or a built-in phrase."""
    if phrase in BUILT_IN_PHRASES:
        return any(i["name"] == BUILT_IN_PHRASES[phrase] for i in model["intents"])
    values = {t["name"]: {word for v in t["values"] for word in (v["name"]["value"], *v["name"].get("synonyms", []))}
              for t in model["types"]}
    for intent in model["intents"]:
        types = {s["name"]: s["type"] for s in intent.get("slots", [])}
        for sample in intent["samples"]:
            if "{" not in sample:
                if sample == phrase:
                    return True
                continue
            pattern = re.escape(sample)
            for name in types:
                pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>.+)")
            match = re.fullmatch(pattern, phrase)
            if match and all(match[name] in values.get(kind, ()) for name, kind in types.items()
                             if name in match.groupdict()):
                return True
    return False


def test_the_suggestion_reader_finds_what_the_prompts_suggest():
    found = all_suggestions()
    for expected in ("why does my back hurt", "what does a psa test measure", "what is denosumab", "tell me more",
                     "repeat", "say that slower", "help", "remind me to call my doctor", "what causes back pain"):
        assert expected in found, (expected, sorted(found))


@pytest.mark.parametrize("locale", LOCALES)
def test_every_phrase_the_skill_suggests_is_an_utterance_of_the_model(locale):
    model = language_model(locale)
    missing = sorted(p for p in all_suggestions() if not understood(p, model))
    assert missing == []


def test_the_matcher_would_catch_a_suggestion_the_model_lacks():
    model = language_model("en-US")
    assert understood("what is zometa", model) and not understood("what is a flarbogen", model)
