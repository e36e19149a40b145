"""A statistical reading of a whole long utterance, for stories no sample resembles.

Alexa's NLU is a statistical model trained on the samples: it classifies a
long spoken story as a whole, by the words in it, and its out-of-domain class
competes with every intent. The fuzzy stage compares the utterance with one
sample at a time, so a 30-word account ("...and today I can't feel anything
when I wipe, anyway can I use a heating pad") resembles no sample and falls
back, though its words are plainly the emergency intent's. This module is the
smallest model of that kind: multinomial naive Bayes over stemmed words and
word pairs, trained on the model's samples alone (slots as type markers, the
fallback intent's samples as the out-of-domain class), with equal priors so
the biggest intent wins no line by its size.

It is deliberately unlike ``tools.learner`` (a linear SVM with character
n-grams, scikit-learn): the two estimates stay independent, and this one needs
nothing beyond the standard library.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import pairwise
from typing import Callable, Iterable

# Additive smoothing of the word counts: small, so a word an intent never uses weighs against it.
ALPHA = 0.1


def features(words: Iterable[str], stem: Callable[[str], str]) -> list[str]:
    """Stemmed words and adjacent pairs: "can't feel" says more than "can't" and "feel" apart."""
    stems = [stem(w) for w in words]
    return stems + [f"{a}_{b}" for a, b in pairwise(stems)]


@dataclass(frozen=True)
class StoryModel:
    """Per-intent feature counts; scores are log-likelihoods with equal priors."""

    counts: dict[str, Counter[str]]
    totals: dict[str, int]
    vocabulary: frozenset[str]

    @classmethod
    def train(cls, samples: Iterable[tuple[str, list[str]]]) -> StoryModel:
        """From (intent, features) pairs: one pair per sample."""
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for intent, feats in samples:
            counts[intent].update(feats)
        vocabulary = frozenset(f for c in counts.values() for f in c)
        return cls(dict(counts), {i: sum(c.values()) for i, c in counts.items()}, vocabulary)

    def rank(self, feats: list[str]) -> list[tuple[str, float]]:
        """Every intent with its log-likelihood, best first.

        Features no sample has carry no evidence either way and are dropped.
        """
        known = [f for f in feats if f in self.vocabulary]
        if not known:
            return []
        size = len(self.vocabulary)
        scores = {}
        for intent, counts in self.counts.items():
            denominator = math.log(self.totals[intent] + ALPHA * size)
            scores[intent] = sum(math.log(counts.get(f, 0) + ALPHA) - denominator for f in known)
        return sorted(scores.items(), key=lambda kv: -kv[1])
