"""The skill's content, loaded once from ``content.json``.

Everything the skill says, and every phrase its models list, lives in that one
data file; this module only gives it typed, read-only shape and the lookups the
handlers need. Adding a topic is one edit to the JSON, nothing here.
"""
from __future__ import annotations

import json
import re
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

CONTENT_PATH = Path(__file__).with_name("content.json")
DEFAULT_LOCALE = "en-US"


# Records are NamedTuples, not frozen dataclasses: equally immutable, but a
# dataclass generates and compiles its methods at import, about half a
# millisecond each on a Lambda cold start (see README, "Performance").
class Topic(NamedTuple):
    """One point of the article: a short answer, a longer one, and what to offer next."""

    id: str
    intent: str
    label: str
    answer: str
    more: str
    next: str
    samples: tuple[str, ...]
    index: int

    @property
    def title(self) -> str:
        """Card title: the label with a capital first letter."""
        return self.label[:1].upper() + self.label[1:]


class Term(NamedTuple):
    """A glossary entry; its id is the entity-resolution id of the slot value."""

    id: str
    title: str
    name: str
    synonyms: tuple[str, ...]
    answer: str
    topic: str
    index: int


class LocaleInfo(NamedTuple):
    """How to tell a listener in one locale to get emergency help."""

    emergency_number: str
    emergency_spoken: str


def normalise(text: str) -> str:
    """Fold case, punctuation and spacing so spoken variants compare equal."""
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


class Content:
    """Read-only view over the parsed ``content.json``."""

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw
        self.invocation_name: str = raw["invocation_name"]
        self.skill_name: str = raw["skill_name"]
        self.source: Mapping[str, str] = MappingProxyType(dict(raw["source"]))
        self.prompts: Mapping[str, Any] = MappingProxyType(dict(raw["prompts"]))
        self.topics: tuple[Topic, ...] = tuple(
            Topic(index=i, samples=tuple(t["samples"]),
                  **{k: t[k] for k in ("id", "intent", "label", "answer", "more", "next")})
            for i, t in enumerate(raw["topics"])
        )
        glossary = raw["glossary"]
        self.glossary_intent: str = glossary["intent"]
        self.glossary_slot: str = glossary["slot"]
        self.glossary_slot_type: str = glossary["slot_type"]
        self.glossary_samples: tuple[str, ...] = tuple(glossary["samples"])
        self.terms: tuple[Term, ...] = tuple(
            Term(index=i, synonyms=tuple(t["synonyms"]),
                 **{k: t[k] for k in ("id", "title", "name", "answer", "topic")})
            for i, t in enumerate(glossary["terms"])
        )
        self.utility_intents: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {u["intent"]: tuple(u["samples"]) for u in raw["utility_intents"]})
        self.builtin_intents: tuple[str, ...] = tuple(raw["builtin_intents"])
        self.locales: Mapping[str, LocaleInfo] = MappingProxyType(
            {k: LocaleInfo(**v) for k, v in raw["locales"].items()})

    @cached_property
    def topic_by_id(self) -> Mapping[str, Topic]:
        return MappingProxyType({t.id: t for t in self.topics})

    @cached_property
    def topic_by_intent(self) -> Mapping[str, Topic]:
        return MappingProxyType({t.intent: t for t in self.topics})

    @cached_property
    def term_by_id(self) -> Mapping[str, Term]:
        return MappingProxyType({t.id: t for t in self.terms})

    @cached_property
    def _term_by_phrase(self) -> Mapping[str, Term]:
        table = {}
        for term in self.terms:
            for phrase in (term.name, *term.synonyms):
                table.setdefault(normalise(phrase), term)
        return MappingProxyType(table)

    def find_term(self, spoken: str | None) -> Term | None:
        """Match a raw slot value to a term when Alexa sent no resolution."""
        if not spoken:
            return None
        return self._term_by_phrase.get(normalise(spoken))

    def locale(self, locale: str | None) -> LocaleInfo:
        """Locale settings; unknown locales get en-US rather than an error."""
        return self.locales.get(locale or "", self.locales[DEFAULT_LOCALE])

    def doctor_line(self, index: int) -> str:
        """Vary the see-a-doctor line by answer so it does not grate."""
        lines = self.prompts["doctor_lines"]
        return lines[index % len(lines)]

    @property
    def all_intents(self) -> tuple[str, ...]:
        """Every intent the models declare, in model order."""
        return (*(t.intent for t in self.topics), self.glossary_intent,
                *self.utility_intents, *self.builtin_intents)


def load(path: Path = CONTENT_PATH) -> Content:
    with open(path, encoding="utf-8") as fh:
        return Content(json.load(fh))


CONTENT = load()
