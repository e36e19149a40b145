"""How well the simulator understands real questions: measured on labelled sets, not hoped.

``tests/nlu_eval.tsv`` holds questions written the way people ask them, by
someone who had not seen the models' samples; none of them is a sample. The
fuzzy threshold was chosen on it. ``tests/nlu_holdout.tsv`` was written the same
way after that choice and is measured, never tuned on.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from simulator.nlu import InteractionModel
from simulator.normalize import normalize
from deploy.models import MODELS_DIR
from testkit.envelopes import LOCALES

HERE = Path(__file__).parent
FALLBACK = "AMAZON.FallbackIntent"
# Saying "the article doesn't cover that" declines as the fallback does: right for an out-of-domain line.
DECLINES = {FALLBACK, "NotCoveredIntent"}


def load_set(name: str) -> list[tuple[str, str]]:
    with open(HERE / name, encoding="utf-8", newline="") as fh:
        return [(row["utterance"], row["intent"]) for row in csv.DictReader(fh, delimiter="\t")]


@pytest.fixture(scope="module")
def model() -> InteractionModel:
    return InteractionModel.load(MODELS_DIR / "en-US.json")


def score(model: InteractionModel, rows: list[tuple[str, str]]) -> tuple[float, float, Counter]:
    misses: Counter = Counter()
    hits = {True: 0, False: 0}
    totals = Counter(label == FALLBACK for _, label in rows)
    for utterance, label in rows:
        got = model.resolve(utterance).intent
        if got == label or (label == FALLBACK and got in DECLINES):
            hits[label == FALLBACK] += 1
        else:
            misses[(label, got)] += 1
    return hits[False] / totals[False], hits[True] / totals[True], misses


def test_eval_set_is_big_enough_and_well_labelled(model):
    rows = load_set("nlu_eval.tsv")
    assert len(rows) >= 150
    labels = Counter(label for _, label in rows)
    assert set(labels) <= set(model.intents)
    assert labels[FALLBACK] >= 20
    assert len({u for u, _ in rows}) == len(rows)


# Dialogue turns that only steer the conversation ("yes", "tell me more",
# "repeat"): the utility and built-in intents listed these phrases before the
# blind sets were written, so they are exempt from the check below.
STEERING = {"OFFERED", "ASK", "MORE", "REPEAT", "SLOWER", "START_OVER", "GOODBYE"}


# Lines of the speech tuning set (written blind on 2026-12-05) that were already
# samples, word for word, when the set arrived: people say them, and the samples
# had them first. Nothing else of that set may become a sample.
ALREADY_SAMPLES = frozenset({
    "dormant cancer cells", "where does it spread", "how common is spread", "why would a doctor order a bone scan",
    "can metastatic prostate cancer be cured", "what is denosumab for", "what is radiation therapy for bone pain",
    "radiation for bone pain", "any new treatments", "what does that mean", "how does it work", "what can i ask",
    "give me an example", "what is the weather like",
})


def blind_questions() -> set[str]:
    """Every question of the blind sets, canonical (steering turns of dialogues aside)."""
    questions = {normalize(u) for name in ("nlu_eval.tsv", "nlu_holdout.tsv")
                 if (HERE / name).exists() for u, _ in load_set(name)}
    for name in ("nlu_eval_natural.tsv", "nlu_eval_dialogues.tsv", "nlu_holdout_natural.tsv",
                 "nlu_holdout_dialogues.tsv", "speech_tune.tsv", "speech_tune_dialogues.tsv"):
        if not (HERE / name).exists():
            continue
        with open(HERE / name, encoding="utf-8", newline="") as fh:
            questions |= {normalize(row["utterance"]) for row in csv.DictReader(fh, delimiter="\t")
                          if row["expect"] not in STEERING}
    return questions - ALREADY_SAMPLES


def test_no_evaluation_question_is_a_sample():
    """Keep the samples and the evaluation sets apart, in every locale."""
    questions = blind_questions()
    assert len(questions) > 600
    for locale in LOCALES:
        model = json.loads((MODELS_DIR / f"{locale}.json").read_text())["interactionModel"]["languageModel"]
        samples = {normalize(s) for intent in model["intents"] for s in intent["samples"]}
        assert questions & samples == set(), locale


def test_intent_accuracy_on_the_evaluation_set(model):
    in_domain, out_of_domain, misses = score(model, load_set("nlu_eval.tsv"))
    report = f"in-domain {in_domain:.1%}, out-of-domain to fallback {out_of_domain:.1%}; misses {misses.most_common(8)}"
    print(report)
    assert in_domain >= 0.90, report
    assert out_of_domain >= 0.90, report


def test_accuracy_on_questions_never_tuned_on(model):
    """The held-out set guards against overfitting the threshold and scoring to nlu_eval.tsv.

    Measured 87% in-domain and 100% out-of-domain when it was written; the floor
    is a regression guard a little under that, not a target that was tuned.
    """
    rows = load_set("nlu_holdout.tsv")
    assert len(rows) >= 150
    in_domain, out_of_domain, misses = score(model, rows)
    report = (f"held out: in-domain {in_domain:.1%}, out-of-domain to fallback {out_of_domain:.1%}; "
              f"misses {misses.most_common(8)}")
    print(report)
    assert in_domain >= 0.85, report
    assert out_of_domain >= 0.90, report
