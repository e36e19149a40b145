"""Recognise how a user addresses a skill: launch, one-shot, exit, or plain talk.

Works on canonical tokens, so "Alexa, ask Kitchen Helper what's for dinner?"
and "ask kitchen helper what is for dinner" parse alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .normalize import tokenize

Kind = Literal["launch", "oneshot", "exit", "utterance"]

# Verbs that launch a skill when followed by its invocation name.
LAUNCH_VERBS: tuple[tuple[str, ...], ...] = (
    ("open",), ("start",), ("launch",), ("talk", "to"), ("ask",), ("tell",),
    ("play",), ("use",), ("begin",),
)
# Words that may join the invocation name to the question ("ask X to ...").
CONNECTIVES = frozenset("to about for if whether that and".split())
# "<question> using X" style one-shots.
SUFFIX_LINKS = frozenset("using with from".split())
EXIT_PHRASES = frozenset({("exit",), ("quit",)})


@dataclass(frozen=True, slots=True)
class Invocation:
    """Parsed invocation: what kind of address, and the question if there is one.

    `rest` is the question with any connective dropped; `full_rest` keeps it,
    because "ask X for a recipe" may match a sample "for a recipe" or "a recipe".
    """

    kind: Kind
    rest: str
    full_rest: str = ""

    @property
    def rests(self) -> tuple[str, ...]:
        """Distinct readings of the question, connective-free first."""
        if self.full_rest and self.full_rest != self.rest:
            return (self.rest, self.full_rest)
        return (self.rest,)


def parse_invocation(text: str, invocation_name: str) -> Invocation:
    """Classify text against the skill's invocation name.

    The question comes back in the user's own words (lower case, no
    punctuation) so slot values keep what was said.
    """
    tokens = tokenize(text)
    words = list(tokens.canon)
    start = 1 if words[:1] == ["alexa"] else 0
    words = words[start:]
    if tuple(words) in EXIT_PHRASES:
        return Invocation("exit", "")

    def said(i: int, j: int) -> str:
        return tokens.surface_text(start + i, start + j)

    name = list(tokenize(invocation_name).canon)
    n = len(name)
    if n:
        for verb in LAUNCH_VERBS:
            v = len(verb)
            if tuple(words[:v]) == verb and words[v:v + n] == name:
                first = v + n
                if first == len(words):
                    return Invocation("launch", "")
                skip = 1 if words[first] in CONNECTIVES and len(words) > first + 1 else 0
                return Invocation("oneshot", said(first + skip, len(words)), said(first, len(words)))
        if len(words) > n + 1 and words[-n:] == name and words[-n - 1] in SUFFIX_LINKS:
            question = said(0, len(words) - n - 1)
            return Invocation("oneshot", question, question)
    return Invocation("utterance", said(0, len(words)))
