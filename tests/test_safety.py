"""Red flags and crisis statements come first, in every locale; near misses never trigger.

``tests/safety_eval.tsv`` was written by a helper who never saw the models'
samples: genuine red flags by category, statements of suicidal thoughts or
self-harm, and near misses that only sound urgent. Each line goes through the
simulator (its NLU, full envelopes, the Lambda entry) and is graded by what the
skill says back, not by intent name.
"""
from __future__ import annotations

import csv
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

import lambda_handler
from deploy.models import MODELS_DIR
from simulator.client import Conversation, InProcessTarget
from simulator.nlu import InteractionModel
from skill.content import CONTENT
from testkit import envelopes as E

HERE = Path(__file__).parent
LOCALES = tuple(CONTENT.locales)


@cache
def model(locale: str) -> InteractionModel:
    return InteractionModel.load(MODELS_DIR / f"{locale}.json")


def load(name: str) -> list[dict[str, str]]:
    with open(HERE / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def heard(locale: str, utterance: str) -> str:
    """What a listener hears after opening the skill and saying ``utterance``."""
    conversation = Conversation(model(locale), InProcessTarget(lambda_handler.handler), locale=locale)
    conversation.launch()
    return conversation.say(utterance).speech


def intent_request(name: str, slots: dict | None = None, *, locale: str = "en-US",
                   attributes: dict | None = None) -> dict:
    """A full envelope for one intent; with ``attributes``, a later turn of the same session."""
    return E.envelope(E.intent(name, slots, locale), attributes=attributes, new=attributes is None)


def grade(locale: str, speech: str) -> str:
    """Which safety answer the speech is: emergency, crisis, or none."""
    info = CONTENT.locale(locale)
    if speech.count(f"call {info.emergency_spoken} now") >= 2:
        return "emergency"
    if info.crisis_spoken in speech:
        return "crisis"
    return "none"


def score(rows: list[dict[str, str]]) -> tuple[float, float, Counter]:
    """Recall over emergency and crisis lines, false-alarm rate over near misses."""
    misses: Counter = Counter()
    caught = urgent = alarms = calm = 0
    for row in rows:
        got = grade(row["locale"], heard(row["locale"], row["utterance"]))
        if row["label"] == "none":
            calm += 1
            alarms += got != "none"
        else:
            urgent += 1
            caught += got == row["label"]
        if got != row["label"]:
            misses[(row["label"], row["category"], row["utterance"], got)] += 1
    return caught / urgent, alarms / calm, misses


def test_the_blind_safety_set_is_big_enough_and_covers_every_category():
    rows = load("safety_eval.tsv")
    labels = Counter(row["label"] for row in rows)
    assert labels["emergency"] >= 80 and labels["none"] >= 80 and labels["crisis"] >= 10
    categories = {row["category"] for row in rows if row["label"] == "emergency"}
    assert categories >= {"leg_weakness", "saddle", "retention", "incontinence", "fever",
                          "chest_tearing", "trauma", "known_cancer"}
    assert {row["locale"] for row in rows} == set(LOCALES)


# safety_eval.tsv was tuned on (samples and the simulator's matching), so it
# carries the issue's bars. safety_holdout.tsv, written blind by another helper
# and added only after tuning, measured 95.0% recall and 5.8% false alarms when
# it was added; its bounds are a regression guard around that, not a target.
@pytest.mark.parametrize("name, min_recall, max_false_alarms", [
    ("safety_eval.tsv", 0.95, 0.05),
    ("safety_holdout.tsv", 0.93, 0.08),
])
def test_red_flags_and_crisis_are_caught_and_near_misses_are_not(name, min_recall, max_false_alarms):
    if not (HERE / name).exists():
        pytest.skip(f"{name} not present")
    recall, false_alarms, misses = score(load(name))
    report = (f"{name}: recall {recall:.1%}, false alarms {false_alarms:.1%}; "
              f"misses {sorted(misses)[:12]}")
    print(report)
    assert recall >= min_recall, report
    assert false_alarms <= max_false_alarms, report


@pytest.mark.parametrize("utterance", [
    "my back is killing me", "will i die from prostate cancer", "i'm dying to know what psa means",
    "my legs are tired", "help me", "can you help me right now",
    "i fell asleep on the couch and my back hurts",
])
def test_the_issues_own_near_misses_do_not_trigger(utterance):
    for locale in LOCALES:
        assert grade(locale, heard(locale, utterance)) == "none", (locale, utterance)


# ------------------------------------------------------------ the replies, through the Lambda entry

@pytest.mark.parametrize("locale", LOCALES)
def test_the_emergency_reply_says_the_local_number_twice_and_keeps_the_line_open(locale):
    info = CONTENT.locale(locale)
    body = lambda_handler.handler(intent_request("EmergencyIntent", locale=locale))
    response = body["response"]
    speech = response["outputSpeech"]["ssml"]
    assert speech.count(f"call {info.emergency_spoken} now") == 2
    assert info.emergency_department in speech and "drive yourself" in speech
    assert "ask someone near you to call" in speech and "say repeat" in speech
    # Open, so "repeat" works; the reprompt says the number once more.
    assert response["shouldEndSession"] is False
    assert info.emergency_spoken in response["reprompt"]["outputSpeech"]["ssml"]
    card = response["card"]
    assert card["title"] == f"Call {info.emergency_number} now"
    assert card["content"].count(info.emergency_number) == 2
    assert info.emergency_department_written in card["content"]


@pytest.mark.parametrize("locale", LOCALES)
def test_asked_to_call_it_says_plainly_it_cannot_then_gives_the_number(locale):
    info = CONTENT.locale(locale)
    speech = lambda_handler.handler(intent_request("EmergencyCallIntent", locale=locale))["response"]
    said = speech["outputSpeech"]["ssml"]
    assert said.startswith("<speak>I can't place calls myself.")
    assert said.count(f"call {info.emergency_spoken} now") == 2


@pytest.mark.parametrize("locale", LOCALES)
def test_repeat_after_an_emergency_says_the_number_again(locale):
    info = CONTENT.locale(locale)
    first = lambda_handler.handler(intent_request("EmergencyIntent", locale=locale))
    again = lambda_handler.handler(intent_request("AMAZON.RepeatIntent", locale=locale,
                                                    attributes=first["sessionAttributes"]))
    assert again["response"]["outputSpeech"]["ssml"] == first["response"]["outputSpeech"]["ssml"]
    assert info.emergency_spoken in again["response"]["outputSpeech"]["ssml"]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_crisis_reply_gives_the_local_line_and_the_emergency_number(locale):
    info = CONTENT.locale(locale)
    response = lambda_handler.handler(intent_request("CrisisIntent", locale=locale))["response"]
    speech = response["outputSpeech"]["ssml"]
    assert info.crisis_spoken in speech and info.emergency_spoken in speech
    assert response["card"]["content"].count(info.crisis_number) == 1
    assert info.emergency_number in response["card"]["content"]
    assert response["shouldEndSession"] is False and "repeat" in response["reprompt"]["outputSpeech"]["ssml"]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("request_", [
    lambda locale: intent_request("AMAZON.FallbackIntent", locale=locale),
    lambda locale: intent_request(CONTENT.glossary_intent, {"term": E.slot("term", "flarbogen", no_match=True)},
                                  locale=locale),
], ids=["fallback", "unknown-term"])
def test_the_fallback_and_the_unknown_term_end_with_the_safety_net(locale, request_):
    speech = lambda_handler.handler(request_(locale))["response"]["outputSpeech"]["ssml"]
    last = speech.removesuffix("</speak>").rsplit(".", 2)[-2]
    assert CONTENT.locale(locale).emergency_spoken in last, speech


def test_two_fallbacks_in_a_row_vary_the_safety_line():
    first = lambda_handler.handler(intent_request("AMAZON.FallbackIntent"))
    second = lambda_handler.handler(intent_request("AMAZON.FallbackIntent",
                                                     attributes=first["sessionAttributes"]))
    nets = [line.format(number="nine one one") for line in CONTENT.prompts["safety_net"]]
    said = [[n for n in nets if n in r["response"]["outputSpeech"]["ssml"]] for r in (first, second)]
    assert len(said[0]) == len(said[1]) == 1 and said[0] != said[1]


def test_numbers_are_spoken_the_way_people_say_them():
    spoken = {locale: CONTENT.locale(locale).emergency_spoken for locale in LOCALES}
    assert spoken == {"en-US": "nine one one", "en-CA": "nine one one", "en-GB": "nine nine nine",
                      "en-AU": "triple zero", "en-IN": "one one two"}
    for locale in LOCALES:
        info = CONTENT.locale(locale)
        assert not any(ch.isdigit() for ch in info.emergency_spoken + info.crisis_spoken)


def test_every_phone_number_cites_an_official_source():
    for locale in LOCALES:
        info = CONTENT.locale(locale)
        assert info.emergency_source.startswith("https://") and info.crisis_source.startswith("https://")
    assert {CONTENT.locale(loc).crisis_number for loc in LOCALES} == {"988", "116 123", "13 11 14", "14416"}


def test_every_red_flag_category_has_samples_and_sources_are_written_down():
    import json
    raw = json.loads((Path(__file__).parent.parent / "skill" / "content.json").read_text())
    emergency = next(u for u in raw["utility_intents"] if u["intent"] == "EmergencyIntent")
    assert "https://cks.nice.org.uk" in emergency["_comment"] and "ng234" in emergency["_comment"]
    samples = " | ".join(CONTENT.utility_intents["EmergencyIntent"])
    for words in ("toilet paper", "can't pee", "can't empty my bladder", "soiled myself",
                  "can't feel when i need to go", "fever", "chills", "chest pain", "tearing",
                  "worst pain of my life", "ladder", "car crash", "giving way", "foot drop", "prostate cancer"):
        assert words in samples, words
    assert "can't wee" in samples or "can't have a wee" in " ".join(CONTENT.samples_for("EmergencyIntent", "en-GB"))
