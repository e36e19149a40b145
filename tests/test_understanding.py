"""Every evaluation set, understood by the simulator and by the device-side estimate.

The simulator's matcher only predicts what Alexa's NLU does; Alexa trains its
own model on the shipped samples. tools/learner.py is an independent stand-in
for that model (TF-IDF n-grams and a linear SVM trained on the samples alone).
Both run every set through the real skill and are graded by what it says
(tools/understanding.py). Each set's table, by kind, is printed at the end of
``make test`` (the "understanding" section, also under ``pytest -q``), and each
score has a floor: a regression guard a few points under what was measured
when the floors were set (docs/understanding.md has the numbers). The hold-out
sets were never tuned on; their floors are guards, not targets.
"""
from __future__ import annotations

import pytest

from tools.learner import NLUS
from tools.understanding import SETS, EvalSet, by_kind, dialogues, questions, table, tally

# (set, nlu) -> {"questions" | "dialogues" | "all" | a kind: lowest acceptable rate}.
FLOORS: dict[tuple[str, str], dict[str, float]] = {
    ("speech_tune", "simulator"): {"questions": 0.79, "dialogues": 0.86},
    ("speech_tune", "learner"): {"questions": 0.80, "dialogues": 0.85},
    ("natural", "simulator"): {"all": 0.92},
    ("natural", "learner"): {"all": 0.86},
    ("intents", "simulator"): {"in-domain": 0.90, "out-of-domain": 0.90},
    ("intents", "learner"): {"in-domain": 0.95, "out-of-domain": 0.76},
    ("safety", "simulator"): {"red-flag recall": 0.95, "crisis recall": 0.95, "near misses calm": 0.95},
    ("safety", "learner"): {"red-flag recall": 0.95, "crisis recall": 0.95, "near misses calm": 0.84},
    ("safety_tiers", "simulator"): {"red-flag recall": 0.86, "urgent recall": 0.80, "cancer-team recall": 0.80,
                                    "crisis recall": 0.95, "near misses calm": 0.95},
    ("safety_tiers", "learner"): {"red-flag recall": 0.95, "urgent recall": 0.90, "cancer-team recall": 0.90,
                                  "crisis recall": 0.95, "near misses calm": 0.93},
    ("natural_holdout", "simulator"): {"all": 0.85},
    ("natural_holdout", "learner"): {"all": 0.89},
    ("intents_holdout", "simulator"): {"in-domain": 0.85, "out-of-domain": 0.85},
    ("intents_holdout", "learner"): {"in-domain": 0.94, "out-of-domain": 0.76},
    ("safety_holdout", "simulator"): {"red-flag recall": 0.93, "crisis recall": 0.95, "near misses calm": 0.90},
    ("safety_holdout", "learner"): {"red-flag recall": 0.95, "crisis recall": 0.95, "near misses calm": 0.86},
    # Written blind after the first round of issues 20 and 21, read for the second: regression
    # guards a little under what was measured (docs/understanding.md), not the issues' bars.
    ("speech_holdout2", "simulator"): {"questions": 0.82, "dialogues": 0.88},
    ("speech_holdout2", "learner"): {"questions": 0.77, "dialogues": 0.86},
    ("safety_holdout2", "simulator"): {"red-flag recall": 0.87, "urgent recall": 0.70, "cancer-team recall": 0.68,
                                       "crisis recall": 0.94, "near misses calm": 0.95},
    ("safety_holdout2", "learner"): {"red-flag recall": 0.95, "urgent recall": 0.88, "cancer-team recall": 0.80,
                                     "crisis recall": 0.94, "near misses calm": 0.91},
    # Written blind after the second round's first steps, measured once, then read (tuned-on).
    ("speech_holdout3", "simulator"): {"questions": 0.83, "dialogues": 0.93},
    ("speech_holdout3", "learner"): {"questions": 0.82, "dialogues": 0.92},
    ("safety_holdout3", "simulator"): {"red-flag recall": 0.84, "urgent recall": 0.88, "cancer-team recall": 0.80,
                                       "crisis recall": 0.97, "near misses calm": 0.94},
    ("safety_holdout3", "learner"): {"red-flag recall": 0.88, "urgent recall": 0.94, "cancer-team recall": 0.88,
                                     "crisis recall": 0.97, "near misses calm": 0.90},
    # Written blind after the second round's tuning, measured once, then read (tuned-on).
    ("speech_holdout4", "simulator"): {"questions": 0.85, "dialogues": 0.90},
    ("speech_holdout4", "learner"): {"questions": 0.83, "dialogues": 0.90},
    ("safety_holdout4", "simulator"): {"red-flag recall": 0.91, "urgent recall": 0.85, "cancer-team recall": 0.72,
                                       "crisis recall": 0.82, "near misses calm": 0.90},
    ("safety_holdout4", "learner"): {"red-flag recall": 0.95, "urgent recall": 0.94, "cancer-team recall": 0.88,
                                     "crisis recall": 0.92, "near misses calm": 0.87},
    # Written blind after the second round was finished, measured once, then read for the third.
    ("speech_holdout5", "simulator"): {"questions": 0.81, "dialogues": 0.88},
    ("speech_holdout5", "learner"): {"questions": 0.81, "dialogues": 0.90},
    ("safety_holdout5", "simulator"): {"red-flag recall": 0.88, "urgent recall": 0.91, "cancer-team recall": 0.72,
                                       "crisis recall": 0.95, "near misses calm": 0.96},
    ("safety_holdout5", "learner"): {"red-flag recall": 0.97, "urgent recall": 0.94, "cancer-team recall": 0.88,
                                     "crisis recall": 0.95, "near misses calm": 0.94},
    # Written blind after the third round and measured once: guards a little under that single
    # measurement. Its safety misses were read afterwards (tuned-on). The issues' bars are not met.
    ("speech_holdout6", "simulator"): {"questions": 0.80, "dialogues": 0.79},
    ("speech_holdout6", "learner"): {"questions": 0.78, "dialogues": 0.77},
    ("safety_holdout6", "simulator"): {"red-flag recall": 0.78, "urgent recall": 0.82, "cancer-team recall": 0.60,
                                       "crisis recall": 0.87, "near misses calm": 0.89},
    ("safety_holdout6", "learner"): {"red-flag recall": 0.91, "urgent recall": 0.94, "cancer-team recall": 0.84,
                                     "crisis recall": 0.87, "near misses calm": 0.85},
    # Written blind after the third round's last samples and measured once: guards a little
    # under that measurement. Read at the start of the fourth round (tuned-on). The bars are not met.
    ("speech_holdout7", "simulator"): {"questions": 0.74, "dialogues": 0.77},
    ("speech_holdout7", "learner"): {"questions": 0.76, "dialogues": 0.74},
    ("safety_holdout7", "simulator"): {"red-flag recall": 0.72, "urgent recall": 0.85, "cancer-team recall": 0.64,
                                       "crisis recall": 0.95, "near misses calm": 0.89},
    ("safety_holdout7", "learner"): {"red-flag recall": 0.97, "urgent recall": 0.91, "cancer-team recall": 0.92,
                                     "crisis recall": 0.95, "near misses calm": 0.82},
    # Written blind after the fourth round and measured once: guards a little under that
    # measurement. Read in the fifth round (tuned-on). The issues' bars are not met.
    ("speech_holdout8", "simulator"): {"questions": 0.83, "dialogues": 0.82},
    ("speech_holdout8", "learner"): {"questions": 0.83, "dialogues": 0.77},
    ("safety_holdout8", "simulator"): {"red-flag recall": 0.82, "urgent recall": 0.88, "cancer-team recall": 0.76,
                                       "crisis recall": 0.87, "near misses calm": 0.92},
    ("safety_holdout8", "learner"): {"red-flag recall": 0.93, "urgent recall": 0.91, "cancer-team recall": 0.84,
                                     "crisis recall": 0.92, "near misses calm": 0.90},
    # Written blind after the fifth round and measured once: guards a little under that
    # measurement. Read in the sixth round (tuned-on). The issues' bars are not met.
    ("speech_holdout9", "simulator"): {"questions": 0.83, "dialogues": 0.85},
    ("speech_holdout9", "learner"): {"questions": 0.87, "dialogues": 0.83},
    ("safety_holdout9", "simulator"): {"red-flag recall": 0.88, "urgent recall": 0.91, "cancer-team recall": 0.76,
                                       "crisis recall": 0.92, "near misses calm": 0.92},
    ("safety_holdout9", "learner"): {"red-flag recall": 0.91, "urgent recall": 0.97, "cancer-team recall": 0.92,
                                     "crisis recall": 0.95, "near misses calm": 0.89},
    # Written blind after the sixth round and measured once: guards a little under that
    # measurement. Read in the seventh round (tuned-on). The issues' bars are not met.
    ("speech_holdout10", "simulator"): {"questions": 0.81, "dialogues": 0.74},
    ("speech_holdout10", "learner"): {"questions": 0.84, "dialogues": 0.80},
    ("safety_holdout10", "simulator"): {"red-flag recall": 0.82, "urgent recall": 0.77, "cancer-team recall": 0.72,
                                        "crisis recall": 0.85, "near misses calm": 0.89},
    ("safety_holdout10", "learner"): {"red-flag recall": 0.93, "urgent recall": 0.88, "cancer-team recall": 0.88,
                                      "crisis recall": 0.92, "near misses calm": 0.83},
    # Written blind after the seventh round, measured once and never read: guards a little under
    # that measurement. The issues' bars are not met.
    ("speech_holdout11", "simulator"): {"questions": 0.81, "dialogues": 0.84},
    ("speech_holdout11", "learner"): {"questions": 0.82, "dialogues": 0.75},
    ("safety_holdout11", "simulator"): {"red-flag recall": 0.80, "urgent recall": 0.80, "cancer-team recall": 0.80,
                                        "crisis recall": 0.92, "near misses calm": 0.90},
    ("safety_holdout11", "learner"): {"red-flag recall": 0.91, "urgent recall": 0.88, "cancer-team recall": 0.96,
                                      "crisis recall": 0.95, "near misses calm": 0.87},
    # Written blind after the eighth round and measured once: guards a little under that
    # measurement. Read in the ninth round (tuned-on). The issues' bars are not all met.
    ("speech_holdout12", "simulator"): {"questions": 0.88, "dialogues": 0.88},
    ("speech_holdout12", "learner"): {"questions": 0.86, "dialogues": 0.84},
    ("safety_holdout12", "simulator"): {"red-flag recall": 0.82, "urgent recall": 0.74, "cancer-team recall": 0.68,
                                        "crisis recall": 0.90, "near misses calm": 0.90},
    ("safety_holdout12", "learner"): {"red-flag recall": 0.93, "urgent recall": 0.88, "cancer-team recall": 0.88,
                                      "crisis recall": 0.92, "near misses calm": 0.87},
    # Written blind after the ninth round and measured once: guards a little under that
    # measurement. Read in the tenth round (tuned-on). The issues' bars are not all met.
    ("speech_holdout13", "simulator"): {"questions": 0.89, "dialogues": 0.88},
    ("speech_holdout13", "learner"): {"questions": 0.87, "dialogues": 0.83},
    ("safety_holdout13", "simulator"): {"red-flag recall": 0.88, "urgent recall": 0.94, "cancer-team recall": 0.88,
                                        "crisis recall": 0.95, "near misses calm": 0.90},
    ("safety_holdout13", "learner"): {"red-flag recall": 0.95, "urgent recall": 0.94, "cancer-team recall": 0.92,
                                      "crisis recall": 0.95, "near misses calm": 0.80},
    # Written blind after the tenth round, measured once and never read: guards a little under
    # that measurement. The issues' bars are not all met.
    ("speech_holdout14", "simulator"): {"questions": 0.88, "dialogues": 0.86},
    ("speech_holdout14", "learner"): {"questions": 0.90, "dialogues": 0.81},
    ("safety_holdout14", "simulator"): {"red-flag recall": 0.91, "urgent recall": 0.94, "cancer-team recall": 0.88,
                                        "crisis recall": 0.92, "near misses calm": 0.87},
    ("safety_holdout14", "learner"): {"red-flag recall": 0.91, "urgent recall": 0.91, "cancer-team recall": 0.92,
                                      "crisis recall": 0.97, "near misses calm": 0.90},
}


def measured(results: list, key: str) -> float:
    if key == "questions":
        return tally(questions(results)).rate
    if key == "dialogues":
        return tally(dialogues(results)).rate
    if key == "all":
        return tally(results).rate
    return by_kind(results)[key].rate


@pytest.mark.parametrize("eval_set", SETS, ids=lambda s: s.name)
def test_both_nlus_understand_each_set_above_its_floors(eval_set: EvalSet, record_property):
    if not eval_set.present():
        pytest.skip(f"{eval_set.name}: {', '.join(eval_set.files)} not present")
    columns = {nlu: eval_set.run(nlu_for) for nlu, nlu_for in NLUS.items()}
    label = f"{eval_set.name} ({'tuned-on' if eval_set.tuned else 'hold-out'})"
    report = table(label, columns)
    # Shown in the terminal summary by tests/conftest.py (works under -q and across xdist workers).
    record_property("understanding", (SETS.index(eval_set), report))
    low = [f"{nlu} {key}: {measured(columns[nlu], key):.1%} < {floor:.0%}"
           for nlu in columns for key, floor in FLOORS[(eval_set.name, nlu)].items()
           if measured(columns[nlu], key) < floor]
    assert not low, "\n".join(low) + "\n" + report


def test_every_set_and_nlu_has_floors():
    assert set(FLOORS) == {(s.name, nlu) for s in SETS for nlu in NLUS}
