"""Red flags and crisis statements come first, in every locale; near misses never trigger.

``tests/safety_eval.tsv`` was written by a helper who never saw the models'
samples: genuine red flags by category, statements of suicidal thoughts or
self-harm, and near misses that only sound urgent. Each line goes through the
simulator (its NLU, full envelopes, the Lambda entry) and is graded by what the
skill says back, not by intent name.

Three tiers (docs/safety.md): emergency (the number said twice), urgent (a
doctor today), cancer team (his cancer team today); and crisis. Lines the cited
guidance puts in the urgent tier were relabelled ``urgent`` when the tier came
in (issue 20); they are graded on the urgent reply.
"""
from __future__ import annotations

import csv
from collections import Counter
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pytest

import lambda_handler
from deploy.models import MODELS_DIR
from simulator.client import Conversation, InProcessTarget
from simulator.nlu import InteractionModel
from skill.content import CONTENT
from skill.speech import plain_text
from testkit import envelopes as E
from tools.understanding import safety_grade

HERE = Path(__file__).parent
LOCALES = tuple(CONTENT.locales)
LABELS = ("emergency", "urgent", "cancer_team", "crisis", "none")


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


grade = safety_grade   # one grader for these tests and the understanding tables (tools/understanding.py)


class Score(NamedTuple):
    """How a set fared: per label, how many lines got their own reply, and what the others got."""

    got: Counter          # (label, reply) -> lines
    misses: list[tuple[str, str, str, str, str]]   # (label, category, locale, utterance, reply)

    def recall(self, *labels: str) -> float:
        total = sum(n for (label, _), n in self.got.items() if label in labels)
        hit = sum(n for (label, reply), n in self.got.items() if label in labels and label == reply)
        return hit / total if total else 1.0

    def share(self, label: str, replies: tuple[str, ...]) -> float:
        """Share of ``label`` lines that got one of ``replies``."""
        total = sum(n for (lab, _), n in self.got.items() if lab == label)
        return sum(n for (lab, reply), n in self.got.items() if lab == label and reply in replies) / total \
            if total else 0.0

    @property
    def false_alarms(self) -> float:
        """Near misses that got any safety reply."""
        return self.share("none", ("emergency", "urgent", "cancer_team", "crisis"))

    def report(self, name: str) -> str:
        present = [label for label in LABELS if any(lab == label for lab, _ in self.got)]
        parts = [f"{label} {self.recall(label):.1%}" for label in present if label != "none"]
        return (f"{name}: recall {', '.join(parts)}; false alarms {self.false_alarms:.1%} "
                f"(emergency {self.share('none', ('emergency',)):.1%}); misses {self.misses[:12]}")


def score(rows: list[dict[str, str]]) -> Score:
    got: Counter = Counter()
    misses = []
    for row in rows:
        reply = grade(row["locale"], heard(row["locale"], row["utterance"]))
        got[(row["label"], reply)] += 1
        if reply != row["label"]:
            misses.append((row["label"], row["category"], row["locale"], row["utterance"], reply))
    return Score(got, sorted(misses))


def test_the_blind_safety_set_is_big_enough_and_covers_every_category():
    rows = load("safety_eval.tsv")
    labels = Counter(row["label"] for row in rows)
    assert labels["emergency"] >= 80 and labels["none"] >= 80 and labels["crisis"] >= 10
    assert set(labels) <= set(LABELS)
    categories = {row["category"] for row in rows if row["label"] == "emergency"}
    assert categories >= {"leg_weakness", "saddle", "retention", "incontinence", "fever",
                          "chest_tearing", "trauma", "known_cancer"}
    assert {row["locale"] for row in rows} == set(LOCALES)


# safety_eval.tsv was tuned on (samples and the simulator's matching), so it
# carries the issue's bars. safety_holdout.tsv, written blind by another helper
# and added only after tuning, measured 95.0% recall and 5.8% false alarms when
# it was added; its bounds are a regression guard around that, not a target.
# Recall is over the emergency and crisis lines (the red flags); urgent lines,
# relabelled from emergency, must get the urgent reply (docs/safety.md).
@pytest.mark.parametrize("name, min_recall, max_false_alarms, min_urgent", [
    ("safety_eval.tsv", 0.95, 0.05, 0.85),
    ("safety_holdout.tsv", 0.93, 0.08, 1.0),
])
def test_red_flags_and_crisis_are_caught_and_near_misses_are_not(name, min_recall, max_false_alarms, min_urgent):
    if not (HERE / name).exists():
        pytest.skip(f"{name} not present")
    result = score(load(name))
    report = result.report(name)
    print(report)
    assert result.recall("emergency", "crisis") >= min_recall, report
    assert result.recall("crisis") == 1.0, report
    assert result.false_alarms <= max_false_alarms, report
    assert result.recall("urgent") >= min_urgent, report
    assert result.share("urgent", ("none",)) == 0.0, report     # an urgent sign never gets the plain answer


@pytest.mark.parametrize("utterance", [
    "my back is killing me", "will i die from prostate cancer", "i'm dying to know what psa means",
    "my legs are tired", "help me", "can you help me right now",
    "i fell asleep on the couch and my back hurts",
])
def test_the_issues_own_near_misses_do_not_trigger(utterance):
    for locale in LOCALES:
        assert grade(locale, heard(locale, utterance)) == "none", (locale, utterance)


# Plain statements of back pain are the commonest thing a listener says: the
# back-pain answer, which names the red flags once, never the emergency reply.
PLAIN_BACK_PAIN = ("i have back pain", "i have bad back pain", "i have back pain at night", "my back hurts",
                   "i've had back pain for weeks")
NOT_ALARMS = ("my fever has gone and my back is fine now", "i hurt my back lifting a chest of drawers",
              "my boss is a pain in the neck", "how does the bladder control peeing")


@pytest.mark.parametrize("locale", LOCALES)
def test_plain_back_pain_is_never_an_emergency(locale):
    info = CONTENT.locale(locale)
    for utterance in PLAIN_BACK_PAIN:
        said = heard(locale, utterance)
        assert grade(locale, said) == "none", (locale, utterance, said)
        assert said.startswith(CONTENT.topic_by_id["back_pain_causes"].answer_lines[0].say), (locale, utterance)
        assert info.emergency_spoken in said and f"call {info.emergency_spoken} now" not in said, said
    for utterance in NOT_ALARMS:
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
    assert "Call from your phone, or ask someone near you to call" in speech and "say repeat" in speech
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
    nets = [line.format(number="nine one one", alternative="") for line in CONTENT.prompts["safety_net"]]
    said = [[n for n in nets if n in r["response"]["outputSpeech"]["ssml"]] for r in (first, second)]
    assert len(said[0]) == len(said[1]) == 1 and said[0] != said[1]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_urgent_reply_names_the_locales_same_day_service_and_the_signs_that_make_it_an_emergency(locale):
    info = CONTENT.locale(locale)
    response = lambda_handler.handler(intent_request("UrgentCareIntent", locale=locale))["response"]
    speech = response["outputSpeech"]["ssml"]
    assert grade(locale, speech) == "urgent"
    assert info.urgent_action in speech and "today" in speech
    assert speech.count(f"call {info.emergency_spoken} now") == 1      # only for the signs that would make it one
    assert response["card"]["title"] == "See a doctor today"
    assert info.urgent_action_written in response["card"]["content"]
    assert not any(ch.isdigit() for ch in info.urgent_action)          # numbers spoken as words
    assert response["shouldEndSession"] is False


def test_each_locale_sends_urgent_signs_to_its_own_official_service():
    actions = {locale: CONTENT.locale(locale).urgent_action_written for locale in LOCALES}
    assert "NHS 111" in actions["en-GB"] and "GP" in actions["en-GB"]
    assert "1800 022 222" in actions["en-AU"] and "healthdirect" in actions["en-AU"]
    assert "811" in actions["en-CA"] and "walk-in clinic" in actions["en-CA"]
    assert "urgent care clinic" in actions["en-US"]
    assert actions["en-IN"] == "Please see a doctor or visit a clinic today."   # no national line: none invented
    for locale in LOCALES:
        info = CONTENT.locale(locale)
        named_service = any(ch.isdigit() for ch in info.urgent_action_written) or "urgent care" in info.urgent_action
        assert info.urgent_source.startswith("https://") or not named_service, locale


@pytest.mark.parametrize("locale", LOCALES)
def test_the_cancer_team_reply_sends_him_to_his_cancer_team_today_and_names_the_nerve_signs(locale):
    info = CONTENT.locale(locale)
    response = lambda_handler.handler(intent_request("CancerTeamIntent", locale=locale))["response"]
    speech = response["outputSpeech"]["ssml"]
    assert grade(locale, speech) == "cancer_team"
    assert "cancer team or oncologist today" in speech and info.urgent_short in speech
    assert "legs get weak or numb" in speech and speech.count(f"call {info.emergency_spoken} now") == 1
    assert response["card"]["title"] == "Call your cancer team today"


@pytest.mark.parametrize("locale", LOCALES)
def test_a_plan_or_the_means_at_hand_leads_with_the_emergency_number(locale):
    info = CONTENT.locale(locale)
    response = lambda_handler.handler(intent_request("CrisisDangerIntent", locale=locale))["response"]
    speech = plain_text(response["outputSpeech"]["ssml"])
    assert grade(locale, speech) == "crisis"
    assert speech.index(f"call {info.emergency_spoken} now") < speech.index(info.crisis_spoken)
    assert response["card"]["title"] == f"Call {info.emergency_number} now"
    assert info.crisis_number in response["card"]["content"]


@pytest.mark.parametrize("utterance", ["i'm going to kill myself tonight", "i've got the pills ready",
                                       "i've taken an overdose"])
def test_stated_plans_reach_the_danger_reply_by_voice(utterance):
    speech = heard("en-US", utterance)
    assert speech.startswith("I'm really sorry you're going through this. Please call nine one one now"), speech


def test_india_says_108_beside_112_and_understands_it():
    info = CONTENT.locale("en-IN")
    assert info.emergency_alternative == ", or one zero eight for an ambulance"
    assert info.emergency_alternative_source.startswith("https://nhm.gov.in/")
    for utterance in ("call one zero eight", "call one oh eight", "one zero eight"):
        speech = heard("en-IN", utterance)
        assert speech.startswith("I can't place calls myself."), (utterance, speech)
        assert speech.count("call one one two now, or one zero eight for an ambulance") == 2
    response = lambda_handler.handler(intent_request("EmergencyIntent", locale="en-IN"))["response"]
    assert response["card"]["content"].count("call 112 now, or 108 for an ambulance") == 2
    assert "one zero eight" in response["reprompt"]["outputSpeech"]["ssml"]
    for locale in set(LOCALES) - {"en-IN"}:
        assert CONTENT.locale(locale).emergency_alternative == ""


def test_the_uk_goes_to_a_and_e_not_the_a_and_e():
    speech = lambda_handler.handler(intent_request("EmergencyIntent", locale="en-GB"))["response"]
    assert "Don't drive yourself to A and E." in speech["outputSpeech"]["ssml"]
    assert "Don't drive yourself to A&amp;E." not in speech["outputSpeech"]["ssml"]
    assert "Don't drive yourself to A&E." in speech["card"]["content"]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_back_pain_answer_names_the_red_flags_once_before_its_offer(locale):
    info = CONTENT.locale(locale)
    response = lambda_handler.handler(intent_request("BackPainCausesIntent", locale=locale))["response"]
    speech = plain_text(response["outputSpeech"]["ssml"])
    offer = plain_text(response["reprompt"]["outputSpeech"]["ssml"])
    assert speech.endswith(offer)
    before_offer = speech[:-len(offer)]
    assert f"call {info.emergency_spoken}." in before_offer and "trouble peeing" in before_offer
    assert grade(locale, speech) == "none"


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
    intents = {u["intent"]: u for u in raw["utility_intents"]}
    cited = {name: " ".join(source["url"] for source in intents[name].get("sources", [])) for name in intents}
    assert "https://cks.nice.org.uk" in cited["EmergencyIntent"] and "ng234" in cited["EmergencyIntent"]
    assert "nhs.uk/conditions/back-pain" in cited["UrgentCareIntent"] and "ng234" in cited["CancerTeamIntent"]
    assert "columbia" in cited["CrisisIntent"] and "988lifeline" in cited["CrisisDangerIntent"]
    samples = " | ".join(CONTENT.utility_intents["EmergencyIntent"])
    for words in ("toilet paper", "can't pee", "can't empty my bladder", "soiled myself",
                  "can't feel when i need to go", "fever", "chemo", "chest pain", "tearing",
                  "worst pain of my life", "ladder", "car crash", "giving way", "foot drop", "prostate cancer",
                  "both legs", "trouble walking", "buckling", "erection", "trouble starting to pee"):
        assert words in samples, words
    assert "can't wee" in samples or "can't have a wee" in " ".join(CONTENT.samples_for("EmergencyIntent", "en-GB"))
