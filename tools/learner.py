"""Device-side estimate: an independent learner trained only on the shipped samples.

Alexa never runs the simulator's matcher. It trains its own statistical NLU on
``interaction_model/<locale>.json``, so what a listener gets is decided by
those samples alone. This learner does the same from the same file and nothing
else, with none of the simulator's rewrites, clause splitting or penalties:

- every sample of every intent; slot samples filled with the slot type's values
  and synonyms (each sample with a rotating handful, so every value is seen);
- for declared built-in intents, the phrases Alexa itself supplies
  (simulator/builtins.py) besides any samples the model adds;
- a small generic out-of-domain class (tools/out_of_domain.txt, written for this
  tool and taken from no evaluation set) that joins AMAZON.FallbackIntent;
- TF-IDF word and character n-grams and a linear SVM; below ``REJECT`` (its
  decision value) the answer is AMAZON.FallbackIntent. ``REJECT`` was
  calibrated on the tuned-on sets only (``--calibrate``).

Slot values come from a simple match of the type's values in the utterance;
with more values than slots, the ones whose context looks most like the
intent's samples with the slot there win ("my oncologist put me on denosumab
what does it do": the samples put a term before "do", not after "my").

Its prediction becomes a full envelope for the real skill (``LearnedModel``
stands in for the simulator's matcher inside a Conversation), so it is graded
by what the skill says, exactly like the simulator.

Run: ``.venv/bin/python -m tools.learner`` (every set, simulator beside learner,
by kind); ``--set speech_tune --show`` lists one set's misses (reading them is
tuning on that set); ``--calibrate`` sweeps the reject threshold.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn import config_context
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from deploy.models import MODELS_DIR
from simulator.builtins import BUILTIN_PHRASES
from simulator.nlu import InteractionModel, Resolution

from . import understanding as U

OUT_OF_DOMAIN = Path(__file__).with_name("out_of_domain.txt")
FALLBACK = "AMAZON.FallbackIntent"
# Decision value of the best class below which the learner rejects (fallback).
# Calibrated with --calibrate on the tuned-on sets only (nlu_eval.tsv by intent,
# nlu_eval_natural.tsv and speech_tune.tsv by what the skill says): the value
# that maximises their summed accuracy. See docs/understanding.md.
REJECT = -0.6
# How many values fill each slot sample (rotating through the type's phrases).
FILLS_PER_SAMPLE = 8
SVM_C = 1.0
_SLOT = re.compile(r"\{([A-Za-z0-9_.]+)\}")
_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    """Lower-case words, punctuation dropped: roughly what speech recognition hands the NLU."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def clean(text: str) -> str:
    return " ".join(words(text))


def out_of_domain() -> list[str]:
    return [line.strip() for line in OUT_OF_DOMAIN.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


@dataclass(frozen=True)
class Prediction:
    intent: str
    score: float
    values: dict[str, str]      # slot name -> the words that fill it


class Learner:
    """A text classifier for one locale's interaction model, plus a simple slot matcher."""

    def __init__(self, model: dict[str, Any], *, reject: float = REJECT) -> None:
        language = model.get("interactionModel", model)["languageModel"]
        self.reject = reject
        self.types: dict[str, list[str]] = {}
        for slot_type in language.get("types", []):
            phrases = []
            for value in slot_type.get("values", []):
                name = value.get("name", {})
                phrases += [clean(name.get("value", "")), *(clean(s) for s in name.get("synonyms", []))]
            self.types[slot_type["name"]] = sorted({p for p in phrases if p})
        self.slot_types: dict[str, dict[str, str]] = {}
        self.carriers: dict[str, list[str]] = {}     # intent -> samples with slots as markers
        texts: list[str] = []
        labels: list[str] = []
        rotation = 0
        for intent in language["intents"]:
            name = intent["name"]
            slots = {s["name"]: s.get("type", "") for s in intent.get("slots", [])}
            self.slot_types[name] = slots
            # A built-in intent keeps Amazon's own training; the model's samples only add to it.
            samples = list(dict.fromkeys([*intent.get("samples", []), *BUILTIN_PHRASES.get(name, ())]))
            for sample in samples:
                if not _SLOT.search(sample):
                    texts.append(clean(sample))
                    labels.append(name)
                    continue
                self.carriers.setdefault(name, []).append(
                    clean(_SLOT.sub(lambda m: f" slot{m.group(1).lower()} ", sample)))
                names = _SLOT.findall(sample)
                for _ in range(FILLS_PER_SAMPLE):
                    rotation += 1
                    filled = sample
                    for j, slot in enumerate(names):   # two slots of one type take different values
                        filled = filled.replace(f"{{{slot}}}", self._value(slots, slot, rotation + 7 * j), 1)
                    texts.append(clean(filled))
                    labels.append(name)
        for sentence in out_of_domain():
            texts.append(clean(sentence))
            labels.append(FALLBACK)
        self.features = FeatureUnion([
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ])
        self.svm = LinearSVC(C=SVM_C, random_state=0)
        self.svm.fit(self.features.fit_transform(texts), labels)
        self.classes: list[str] = [str(c) for c in self.svm.classes_]
        # Context of each slot position, for choosing among several values in one utterance.
        self.context = TfidfVectorizer(ngram_range=(1, 3))
        every = [c for cs in self.carriers.values() for c in cs]
        self.context.fit(every or ["empty"])
        self._carrier_vectors = {intent: self.context.transform(cs) for intent, cs in self.carriers.items()}

    def _value(self, slots: dict[str, str], slot: str, index: int) -> str:
        phrases = self.types.get(slots.get(slot, ""), [])
        return phrases[index % len(phrases)] if phrases else "something"

    # ------------------------------------------------------------------ predicting
    def decisions(self, text: str) -> np.ndarray:
        """Every class's decision value for one cleaned text.

        The fitted parts are applied directly (what FeatureUnion.transform does, without its
        per-call joblib dispatch and input validation): a set of 460 turns costs a third as much.
        """
        vectors = sparse.hstack([vectorizer.transform([text]) for _, vectorizer in self.features.transformer_list])
        with config_context(assume_finite=True, skip_parameter_validation=True):
            return self.svm.decision_function(vectors.tocsr())[0]

    def scores(self, utterance: str) -> dict[str, float]:
        """Every class's decision value for the utterance."""
        return dict(zip(self.classes, (float(v) for v in self.decisions(clean(utterance))), strict=True))

    def predict(self, utterance: str) -> Prediction:
        text = clean(utterance)
        if not text:
            return Prediction(FALLBACK, 0.0, {})
        values = self.decisions(text)
        best = int(np.argmax(values))
        intent, score = self.classes[best], float(values[best])
        if score < self.reject:
            return Prediction(FALLBACK, score, {})
        return Prediction(intent, score, self.fill(intent, text))

    def mentions(self, text: str, type_name: str) -> list[tuple[int, int]]:
        """Word spans of the type's values in the text, longest first, not overlapping, in order."""
        said = text.split()
        phrases = {tuple(p.split()) for p in self.types.get(type_name, [])}
        longest = max((len(p) for p in phrases), default=0)
        taken = [False] * len(said)
        found = []
        for n in range(min(longest, len(said)), 0, -1):
            for i in range(len(said) - n + 1):
                if not any(taken[i:i + n]) and tuple(said[i:i + n]) in phrases:
                    found.append((i, i + n))
                    taken[i:i + n] = [True] * n
        return sorted(found)

    def fill(self, intent: str, text: str) -> dict[str, str]:
        """Slot values by simple match; with more matches than slots, the best-placed ones."""
        slots = self.slot_types.get(intent, {})
        if not slots:
            return {}
        said = text.split()
        values: dict[str, str] = {}
        by_type: dict[str, list[str]] = {}
        for name, type_name in slots.items():
            by_type.setdefault(type_name, []).append(name)
        for type_name, names in by_type.items():
            found = self.mentions(text, type_name)
            if len(found) <= len(names):
                chosen = found
            else:
                chosen = max(combinations(found, len(names)),
                             key=lambda combo: self._placement(intent, said, combo, names))
            for name, (start, end) in zip(names, chosen, strict=False):
                values[name] = " ".join(said[start:end])
        return values

    def _placement(self, intent: str, said: list[str], spans: tuple[tuple[int, int], ...],
                   names: list[str]) -> float:
        """How much the utterance, with these spans as the slots, looks like the intent's samples."""
        marked = list(said)
        for name, (start, end) in sorted(zip(names, spans, strict=True), key=lambda x: -x[1][0]):
            marked[start:end] = [f"slot{name.lower()}"]
        vectors = self._carrier_vectors.get(intent)
        if vectors is None:
            return 0.0
        query = self.context.transform([" ".join(marked)])
        return float((vectors @ query.T).toarray().max())


@cache
def learner(locale: str) -> Learner:
    """The learner for one locale's shipped model (trained once per process)."""
    return Learner(json.loads((MODELS_DIR / f"{locale}.json").read_text(encoding="utf-8")))


class LearnedModel:
    """The learner in the simulator matcher's place inside a Conversation.

    Slots are built by the simulator's model (``make_slots``), which resolves a
    value against the slot type as Alexa's entity resolution does.
    """

    def __init__(self, learned: Learner, model: InteractionModel) -> None:
        self.learned = learned
        self.model = model
        self.invocation_name = model.invocation_name
        self.intent_slots = model.intent_slots
        self.dialog_intents = model.dialog_intents

    def resolve(self, utterance: str, *, skill_id: str | None = None) -> Resolution:
        guess = self.learned.predict(utterance)
        slots = self.model.make_slots(guess.intent, guess.values, skill_id=skill_id)
        return Resolution(guess.intent, slots, guess.score, "fallback" if guess.intent == FALLBACK else "fuzzy")

    def resolve_best(self, *utterances: str, skill_id: str | None = None) -> Resolution:
        results = [self.resolve(u, skill_id=skill_id) for u in utterances]
        return max(results, key=lambda r: (r.kind != "fallback", r.score))

    def resolve_elicitation(self, intent: str, slot: str, utterance: str, *,
                            skill_id: str | None = None) -> Resolution:
        return self.resolve(utterance, skill_id=skill_id)

    def make_slots(self, intent: str, values: dict[str, str], *, skill_id: str | None = None) -> dict:
        return self.model.make_slots(intent, values, skill_id=skill_id)

    def empty_slots(self, intent: str) -> dict:
        return self.model.empty_slots(intent)


@cache
def learned_nlu(locale: str) -> LearnedModel:
    return LearnedModel(learner(locale), U.simulator_nlu(locale))


NLUS = {"simulator": U.simulator_nlu, "learner": learned_nlu}


# ------------------------------------------------------------------ calibration and report

def calibrate(thresholds: list[float]) -> list[tuple[float, int, int]]:
    """(threshold, right, total) on the tuned-on sets, for each candidate reject threshold.

    Each line is run twice, once as the learner's best intent and once as the
    fallback, so a threshold's accuracy is a sum, not a rerun.
    """
    lines: list[tuple[float, bool, bool]] = []   # (best score, right if accepted, right if rejected)
    for path in ("nlu_eval.tsv",):
        for row in U.read_tsv(U.TESTS_DIR / path):
            accepted = _unrejected(row["utterance"])
            lines.append((accepted.score, accepted.intent == row["intent"], row["intent"] == FALLBACK))
    for name in ("natural", "speech_tune"):
        eval_set = U.SET_BY_NAME[name]
        if not eval_set.present():
            continue
        for row in U.read_tsv(U.TESTS_DIR / eval_set.files[0]):
            if U.unscored(row["utterance"], row["expect"]):
                continue
            locale = row.get("locale") or U.DEFAULT_LOCALE
            score = learner(locale).predict(row["utterance"]).score
            outcomes = []
            for forced in (False, True):
                nlu = _Forced(learned_nlu(locale), rejected=forced)
                turn = U.converse(lambda _, nlu=nlu: nlu, locale).say(row["utterance"])
                outcomes.append(U.grade(row["expect"], turn, None))
            lines.append((score, outcomes[0], outcomes[1]))
    return [(t, sum(acc if s >= t else rej for s, acc, rej in lines), len(lines)) for t in thresholds]


def _unrejected(utterance: str) -> Prediction:
    model = learner(U.DEFAULT_LOCALE)
    saved, model.reject = model.reject, float("-inf")
    try:
        return model.predict(utterance)
    finally:
        model.reject = saved


class _Forced(LearnedModel):
    """The learner with its reject threshold off (best intent always) or always rejecting."""

    def __init__(self, base: LearnedModel, *, rejected: bool) -> None:
        super().__init__(base.learned, base.model)
        self.rejected = rejected

    def resolve(self, utterance: str, *, skill_id: str | None = None) -> Resolution:
        if self.rejected:
            return Resolution(FALLBACK, self.model.empty_slots(FALLBACK), 0.0, "fallback")
        saved, self.learned.reject = self.learned.reject, float("-inf")
        try:
            return super().resolve(utterance, skill_id=skill_id)
        finally:
            self.learned.reject = saved


def report(names: list[str], show: bool = False) -> str:
    blocks = []
    for eval_set in U.SETS:
        if eval_set.name not in names or not eval_set.present():
            continue
        columns = {nlu: eval_set.run(nlu_for) for nlu, nlu_for in NLUS.items()}
        label = f"{eval_set.name} ({'tuned-on' if eval_set.tuned else 'hold-out'})"
        blocks.append(U.table(label, columns))
        if show:
            for nlu, results in columns.items():
                blocks.append("\n".join(f"{nlu}: {line}" for line in U.misses(results)))
    return "\n\n".join(blocks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", choices=[s.name for s in U.SETS],
                        help="only this set (repeatable); default: every set present")
    parser.add_argument("--show", action="store_true", help="list the misses (reading them is tuning on the set)")
    parser.add_argument("--calibrate", action="store_true", help="sweep the reject threshold on the tuned-on sets")
    args = parser.parse_args(argv)
    if args.calibrate:
        for threshold, right, total in calibrate([x / 10 for x in range(-12, 5)]):
            print(f"reject below {threshold:+.1f}: {right}/{total} = {right / total:.1%}")
        return 0
    print(report(args.set or [s.name for s in U.SETS], show=args.show))
    return 0


if __name__ == "__main__":
    sys.exit(main())
