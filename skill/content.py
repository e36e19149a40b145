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
# millisecond each on a Lambda cold start (see BENCHMARKS.md).
class Sentence(NamedTuple):
    """One spoken sentence and what it rests on.

    ``quote`` is a short run of the article's own words (at most eight) that the
    sentence retells; ``safety`` marks the skill's own safety-layer text instead
    ("doctor" when it already sends the listener to a doctor, "context"
    otherwise). Exactly one of the two is set, so every sentence is reviewable.
    """

    say: str
    quote: str | None = None
    safety: str | None = None


Lines = tuple[Sentence, ...]


def sentences(raw: list[Mapping[str, str]]) -> Lines:
    return tuple(Sentence(**item) for item in raw)


def text(lines: Lines) -> str:
    """The sentences as one paragraph of plain prose."""
    return " ".join(line.say for line in lines)


def ends_with_doctor(lines: Lines) -> bool:
    """True when the text already closes by sending the listener to a doctor."""
    return bool(lines) and lines[-1].safety == "doctor"


class Topic(NamedTuple):
    """One point of the article: a short answer, a longer one, and what to offer next."""

    id: str
    intent: str
    label: str
    answer_lines: Lines
    more_lines: Lines
    next: str
    doctor: str
    samples: tuple[str, ...]
    index: int

    @property
    def title(self) -> str:
        """Card title: the label with a capital first letter."""
        return self.label[:1].upper() + self.label[1:]

    @property
    def answer(self) -> str:
        return text(self.answer_lines)

    @property
    def more(self) -> str:
        return text(self.more_lines)


class Term(NamedTuple):
    """A glossary entry; its id is the entity-resolution id of the slot value.

    ``offers_more``: the definition already says what its topic's short answer
    says, so "yes" after it gives the topic's longer answer instead.
    ``gist`` is one sentence on what the article says of the term, for answers
    that speak of two terms at once (a comparison, two things asked together).
    """

    id: str
    title: str
    name: str
    synonyms: tuple[str, ...]
    answer_lines: Lines
    topic: str
    index: int
    offers_more: bool = False
    gist: Sentence | None = None

    @property
    def answer(self) -> str:
        return text(self.answer_lines)


MORE = "more"   # a follow-up answered by the current topic's own longer answer


class PairNote(NamedTuple):
    """What the article itself says that relates two terms ("denosumab, especially if zoledronic acid fails").

    Applies when one term of a question is in ``one`` and the other in ``other``.
    """

    one: frozenset[str]
    other: frozenset[str]
    line: Sentence

    def relates(self, first: str, second: str) -> bool:
        return (first in self.one and second in self.other) or (first in self.other and second in self.one)


class TwoTerms(NamedTuple):
    """Questions naming two glossary terms: a comparison, or two things asked at once.

    Both intents take two slots of the glossary's type; the comparison's second
    slot alone ("is that the same as zometa") compares with the current topic.
    """

    slots: tuple[str, str]
    compare_intent: str
    compare_samples: tuple[str, ...]
    both_intent: str
    both_samples: tuple[str, ...]
    notes: tuple[PairNote, ...]

    def note(self, first: str, second: str) -> PairNote | None:
        return next((n for n in self.notes if n.relates(first, second)), None)


class WithoutTopic(NamedTuple):
    """What a follow-up gets when no topic is in the session.

    ``offer`` is the topic its words name, offered rather than assumed
    ("how common" -> the article's one figure); ``safety_net`` adds the
    emergency line where the words could be about the listener's own symptoms.
    """

    prompt: str
    offer: str | None = None
    safety_net: bool = False


class FollowUp(NamedTuple):
    """One kind of question that points back ("how common is that?") at the topic the listener is on.

    The article answers some kinds for some topics only. Per current topic:
    ``topics`` names the topic whose short answer answers it (or ``MORE``: the
    topic's own longer answer); ``lines`` is a short direct answer from the
    article; any other topic is not covered: the skill says so
    (``not_covered``, or that topic's own ``not_covered_lines``) and offers
    ``nearest`` (by default the topic's next).
    """

    intent: str
    title: str
    samples: tuple[str, ...]
    topics: Mapping[str, str]
    lines: Mapping[str, Lines]
    not_covered: tuple[Lines, ...]
    not_covered_lines: Mapping[str, Lines]
    nearest: Mapping[str, str]
    without_topic: WithoutTopic


def follow_up(raw: Mapping[str, Any]) -> FollowUp:
    return FollowUp(
        intent=raw["intent"], title=raw["title"], samples=tuple(raw["samples"]),
        topics=MappingProxyType(dict(raw.get("topics", {}))),
        lines=MappingProxyType({k: sentences(v) for k, v in raw.get("lines", {}).items()}),
        not_covered=tuple(sentences(v) for v in raw.get("not_covered", [])),
        not_covered_lines=MappingProxyType({k: sentences(v) for k, v in raw.get("not_covered_lines", {}).items()}),
        nearest=MappingProxyType(dict(raw.get("nearest", {}))),
        without_topic=WithoutTopic(**raw["without_topic"]))


class SmallTalk(NamedTuple):
    """Greetings or thanks: one intent, answered by the prompt named ``reply``."""

    intent: str
    reply: str
    samples: tuple[str, ...]


class LocaleInfo(NamedTuple):
    """What differs by country: the emergency number and department, the crisis line, same-day care.

    Each number carries the official page it was checked against.
    ``emergency_alternative`` is said right after the emergency number where a
    second one is widely used (India: 108 for an ambulance beside 112);
    ``urgent_action`` is where to get a doctor today, ``urgent_short`` the same
    in a few words for reminders.
    """

    emergency_number: str
    emergency_spoken: str
    emergency_department: str
    emergency_department_written: str
    emergency_source: str
    crisis_name: str
    crisis_number: str
    crisis_spoken: str
    crisis_source: str
    emergency_alternative: str
    emergency_alternative_written: str
    emergency_alternative_source: str
    urgent_action: str
    urgent_action_written: str
    urgent_short: str
    urgent_source: str


def phrase_key(text: str) -> str:
    """Fold case, punctuation and spacing: the lookup key under which spoken variants of a term meet."""
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


class Content:
    """Read-only view over the parsed ``content.json``."""

    def __init__(self, raw: Mapping[str, Any]):
        self.invocation_name: str = raw["invocation_name"]
        self.skill_name: str = raw["skill_name"]
        self.source: Mapping[str, str] = MappingProxyType(dict(raw["source"]))
        self.prompts: Mapping[str, Any] = MappingProxyType(dict(raw["prompts"]))
        self.topics: tuple[Topic, ...] = tuple(
            Topic(index=i, samples=tuple(t["samples"]), answer_lines=sentences(t["answer"]),
                  more_lines=sentences(t["more"]),
                  **{k: t[k] for k in ("id", "intent", "label", "next", "doctor")})
            for i, t in enumerate(raw["topics"])
        )
        glossary = raw["glossary"]
        self.glossary_intent: str = glossary["intent"]
        self.glossary_slot: str = glossary["slot"]
        self.glossary_slot_type: str = glossary["slot_type"]
        self.glossary_samples: tuple[str, ...] = tuple(glossary["samples"])
        self.terms: tuple[Term, ...] = tuple(
            Term(index=i, synonyms=tuple(t["synonyms"]), answer_lines=sentences(t["answer"]),
                 offers_more=t.get("offers") == MORE, gist=Sentence(**t["gist"]) if "gist" in t else None,
                 **{k: t[k] for k in ("id", "title", "name", "topic")})
            for i, t in enumerate(glossary["terms"])
        )
        two = raw["two_terms"]
        self.two_terms = TwoTerms(
            tuple(two["slots"]), two["compare"]["intent"], tuple(two["compare"]["samples"]),
            two["both"]["intent"], tuple(two["both"]["samples"]),
            tuple(PairNote(frozenset(n["one"]), frozenset(n["other"]), Sentence(**n["line"])) for n in two["notes"]))
        not_covered = raw["not_covered"]
        self.not_covered_intent: str = not_covered["intent"]
        self.not_covered_samples: tuple[str, ...] = tuple(not_covered["samples"])
        self.utility_intents: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {u["intent"]: tuple(u["samples"]) for u in raw["utility_intents"]})
        # Extra samples only some markets say ("ring nine nine nine", "can't do a wee", "the
        # denosumab jab", "kindly tell me what psa is"), for utility and topic intents alike.
        self.locale_samples: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
            {u["intent"]: MappingProxyType({loc: tuple(s) for loc, s in u.get("locale_samples", {}).items()})
             for u in (*raw["utility_intents"], *raw["topics"], glossary, two["compare"], two["both"], not_covered,
                       raw.get("personal", {})) if u.get("locale_samples")}
            | {name: MappingProxyType({loc: tuple(s) for loc, s in by_locale.items()})
               for name, by_locale in raw.get("builtin_locale_samples", {}).items()})
        self.builtin_intents: tuple[str, ...] = tuple(raw["builtin_intents"])
        # Built-in intents can be extended with samples; for AMAZON.FallbackIntent
        # they tune Alexa's out-of-domain model (near misses that must not match).
        self.builtin_samples: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {name: tuple(samples) for name, samples in raw.get("builtin_samples", {}).items()})
        self.follow_ups: tuple[FollowUp, ...] = tuple(follow_up(f) for f in raw.get("follow_ups", []))
        personal = raw.get("personal", {"intent": "PersonalQuestionIntent", "samples": []})
        self.personal_intent: str = personal["intent"]
        self.personal_samples: tuple[str, ...] = tuple(personal["samples"])
        self.small_talk: tuple[SmallTalk, ...] = tuple(
            SmallTalk(t["intent"], t["reply"], tuple(t["samples"]))
            for t in raw.get("small_talk", {}).get("intents", []))
        # Written, not spoken: shown where a screen carries the skill (the simulator's page).
        self.disclaimer: str = raw.get("disclaimer", "")
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
                table.setdefault(phrase_key(phrase), term)
        return MappingProxyType(table)

    def find_term(self, spoken: str | None) -> Term | None:
        """Match a raw slot value to a term when Alexa sent no resolution."""
        if not spoken:
            return None
        return self._term_by_phrase.get(phrase_key(spoken))

    def locale(self, locale: str | None) -> LocaleInfo:
        """Locale settings; unknown locales get en-US rather than an error."""
        return self.locales.get(locale or "", self.locales[DEFAULT_LOCALE])

    def doctor_lines(self, category: str) -> tuple[str, ...]:
        """The see-a-doctor lines that fit a kind of answer (back pain, tests, treatment...)."""
        return tuple(self.prompts["doctor_lines"][category])

    def samples_for(self, intent: str, locale: str) -> tuple[str, ...]:
        """A utility intent's samples in one locale: the shared ones, then that market's own."""
        return (*self.utility_intents[intent], *self.locale_extra(intent, locale))

    def locale_extra(self, intent: str, locale: str) -> tuple[str, ...]:
        """Samples of an intent that only one market says."""
        return self.locale_samples.get(intent, {}).get(locale, ())

    @property
    def all_intents(self) -> tuple[str, ...]:
        """Every intent the models declare, in model order."""
        return (*(t.intent for t in self.topics), self.glossary_intent,
                self.two_terms.compare_intent, self.two_terms.both_intent, self.not_covered_intent,
                *self.utility_intents, *(f.intent for f in self.follow_ups), self.personal_intent,
                *(t.intent for t in self.small_talk), *self.builtin_intents)

    @cached_property
    def main_term(self) -> Mapping[str, Term]:
        """Per topic, the first glossary term that belongs to it: what "that" names in "is that the same as"."""
        table: dict[str, Term] = {}
        for term in self.terms:
            table.setdefault(term.topic, term)
        return MappingProxyType(table)

    @cached_property
    def follow_up_by_intent(self) -> Mapping[str, FollowUp]:
        return MappingProxyType({f.intent: f for f in self.follow_ups})

    @cached_property
    def small_talk_by_intent(self) -> Mapping[str, SmallTalk]:
        return MappingProxyType({t.intent: t for t in self.small_talk})

    def written_disclaimer(self, locale: str | None) -> str:
        """The disclaimer as a page shows it, with the locale's emergency number in digits."""
        return self.disclaimer.format(skill_name=self.skill_name, number=self.locale(locale).emergency_number)


def load(path: Path = CONTENT_PATH) -> Content:
    with open(path, encoding="utf-8") as fh:
        return Content(json.load(fh))


CONTENT = load()
