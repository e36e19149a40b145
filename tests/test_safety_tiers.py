"""The three tiers, end to end, on a set written blind to the samples.

``tests/safety_tiers_tune.tsv`` (locale, label, category, utterance) was written
for issue 20 by a helper who never saw the samples: red flags (emergency), signs
for a doctor the same day (urgent), spinal pain in a man with prostate cancer
(cancer_team), direct and indirect crisis statements, and near misses (none).
Each line goes through the simulator (NLU, full envelopes, the Lambda entry)
and is graded by what the skill says (``test_safety.grade``).

This is a tuning set: its misses were read and samples added for the kinds of
phrasing they showed (never its lines). Its floors sit just under what was
reached, as a regression guard; a fresh blind hold-out measures the tiers unseen.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest

from deploy.models import MODELS_DIR
from skill.content import CONTENT
from tests.test_safety import LABELS, LOCALES, heard, load, score

TUNE = "safety_tiers_tune.tsv"
# Reached when the floors were set (issue 20): emergency 88.3%, urgent 82.5%,
# cancer team 84.0%, crisis 97.5%, false alarms 3.3%. Nearly every miss left is a
# long spoken account (30+ words) the simulator reads as nothing; the fallback
# reply then closes with the emergency number. See docs/safety.md.
FLOORS = {"emergency": 0.86, "urgent": 0.80, "cancer_team": 0.80, "crisis": 0.95}
MAX_FALSE_ALARMS = 0.05


def test_the_tiers_set_is_big_enough_and_labelled():
    rows = load(TUNE)
    labels = Counter(row["label"] for row in rows)
    assert set(labels) == set(LABELS)
    assert labels["urgent"] >= 30 and labels["cancer_team"] >= 20 and labels["crisis"] >= 30
    assert labels["emergency"] >= 30 and labels["none"] >= 30
    assert {row["locale"] for row in rows} == set(LOCALES)


# Lines that are also samples: everyday phrases that were samples before the set
# was written, or that issue 20 itself names as plain statements to get right.
# safety_eval.tsv, tuned on in an earlier round, is not checked.
SHARED = {
    "safety_holdout.tsv": {"i don't want to be alive anymore"},
    TUNE: {"my back hurts", "i want to kill myself", "i want to end my life", "i feel like killing myself",
           "what is zometa used for", "i have back pain", "i have bad back pain", "i have back pain at night",
           "i've had back pain for weeks", "i've got back pain", "i've got a bad back",
           "pain between my shoulder blades"},
}


@pytest.mark.parametrize("name", sorted(SHARED))
def test_no_blind_line_became_a_sample(name):
    """A set matched by copying its lines into the samples would measure nothing."""
    lines = {" ".join(row["utterance"].split()) for row in load(name)}
    shared = set()
    for locale in LOCALES:
        model = json.loads((MODELS_DIR / f"{locale}.json").read_text())["interactionModel"]["languageModel"]
        shared |= lines & {" ".join(s.split()) for intent in model["intents"] for s in intent["samples"]}
    assert shared <= SHARED[name], sorted(shared - SHARED[name])


def test_each_tier_is_reached_and_urgent_signs_get_neither_an_alarm_nor_the_plain_answer():
    result = score(load(TUNE))
    report = result.report(TUNE)
    print(report)
    for label, floor in FLOORS.items():
        assert result.recall(label) >= floor, (label, report)
    assert result.false_alarms <= MAX_FALSE_ALARMS, report
    # An urgent sign must not be sent to an ambulance, nor left with the everyday answer.
    assert result.share("urgent", ("emergency",)) <= 0.05, report
    assert result.share("urgent", ("none",)) <= 0.20, report
    # A red flag must never get only the plain answer or a same-day reply.
    assert result.share("emergency", ("urgent", "cancer_team")) <= 0.05, report
    # The cancer-team reply already names the emergency number for nerve signs, so
    # getting the emergency reply instead errs safe; getting nothing does not.
    assert result.share("cancer_team", ("none",)) <= 0.15, report


def test_every_locale_has_lines_for_every_tier():
    rows = load(TUNE)
    for label in ("emergency", "urgent", "cancer_team", "crisis", "none"):
        assert {row["locale"] for row in rows if row["label"] == label} == set(LOCALES), label


def test_no_urgent_sign_gets_an_everyday_answer():
    """The plain answer ("it can come from many things...") would tell him to wait; a miss must not be that.

    An urgent line the simulator does not understand gets the fallback, which
    closes with the emergency number; it must never get the everyday-causes
    answer. (A miss read as another topic, say "when back pain could be a sign of
    prostate cancer", is counted as a miss by the recall test above.)
    """
    everyday = CONTENT.topic_by_id["back_pain_causes"]
    firsts = [everyday.answer_lines[0].say, everyday.more_lines[0].say]
    answered = [(row["locale"], row["utterance"]) for row in load(TUNE) if row["label"] in ("urgent", "cancer_team")
                and any(first in heard(row["locale"], row["utterance"]) for first in firsts)]
    assert answered == []
