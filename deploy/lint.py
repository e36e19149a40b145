"""Alexa's build rules for an interaction model, checked before Amazon does.

The developer console refuses a model, or reports "utterance conflicts", for
things easy to miss by hand. An utterance conflict is the same words reaching
two intents: a sample listed twice, or a literal sample of one intent equal to
a slot-filled sample of another ("what is psa" as a topic sample and as
``what is {term}`` with term=psa). On a device Alexa then picks one of the two
unpredictably, so the build must have none. ``lint()`` returns one line per
problem; an empty list is a clean model.
"""
from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from typing import Any, Iterator

LAUNCH_WORDS = frozenset({"ask", "open", "tell", "launch", "alexa", "skill", "load", "begin", "enable",
                          "start", "play", "resume", "run", "use", "talk"})
# Letters, spaces, apostrophes (contractions, possessives), periods in
# abbreviations, hyphens; slots in braces. No digits: numbers are spelled out.
SAMPLE_CHARS = re.compile(r"[a-z' .\-{}]+")
SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
INVOCATION = re.compile(r"[a-z][a-z' .]*[a-z]")
# Slot-filled variants of one sample beyond this (a cartesian product of several
# big slot types, "{first} versus {second}") are not enumerated: such a sample is
# matched as a pattern against every other text instead (see conflicts()).
MAX_FILLS = 20_000


def canonical(text: str) -> str:
    """How Alexa compares utterances: case and spacing do not count."""
    return " ".join(text.lower().split())


def _values(slot_type: dict[str, Any]) -> list[str]:
    phrases = []
    for value in slot_type.get("values", []):
        name = value.get("name", {})
        phrases += [name.get("value", ""), *name.get("synonyms", [])]
    return [canonical(p) for p in phrases if p.strip()]


def fills(sample: str, slot_types: dict[str, str], values: dict[str, list[str]]) -> Iterator[str]:
    """Every text a sample can stand for, with each custom slot replaced by each of its values.

    Built-in (AMAZON.*) slots have no list to enumerate and yield nothing.
    """
    names = SLOT.findall(sample)
    if not names:
        yield canonical(sample)
        return
    choices = [values.get(slot_types.get(n, ""), []) for n in names]
    if not all(choices) or any(slot_types.get(n, "").startswith("AMAZON.") for n in names):
        return
    pieces = SLOT.split(sample)   # literal, slot, literal, slot, ..., literal
    for n, combo in enumerate(itertools.product(*choices)):
        if n >= MAX_FILLS:
            return
        text = "".join(p if i % 2 == 0 else combo[i // 2] for i, p in enumerate(pieces))
        yield canonical(text)


def fill_count(sample: str, slot_types: dict[str, str], values: dict[str, list[str]]) -> int:
    """How many texts fills() would give without its cap."""
    return math.prod(len(values.get(slot_types.get(n, ""), [])) for n in SLOT.findall(sample))


def pattern(sample: str, slot_types: dict[str, str], values: dict[str, list[str]]) -> str:
    """A regex matching exactly the texts fills() enumerates, however many there are."""
    pieces = SLOT.split(canonical(sample))
    return "".join(re.escape(p) if i % 2 == 0 else
                   "(?:" + "|".join(map(re.escape, sorted(values.get(slot_types.get(p, ""), []), key=len,
                                                          reverse=True))) + ")"
                   for i, p in enumerate(pieces))


def skeleton(sample: str, slot_types: dict[str, str]) -> str:
    """The sample with each slot named by its type: equal skeletons fill to equal texts."""
    return SLOT.sub(lambda m: "{" + slot_types.get(m.group(1), "") + "}", canonical(sample))


def conflicts(language_model: dict[str, Any]) -> list[str]:
    """Utterances that reach two intents (or one intent twice through a literal sample).

    Samples with few fills are enumerated; one with more than MAX_FILLS (several
    big slots) is matched as a pattern against every literal sample and every
    enumerated fill, and by skeleton against other such samples.
    """
    types = {t["name"]: _values(t) for t in language_model.get("types", [])}
    problems = []
    literal: dict[str, str] = {}
    for intent in language_model.get("intents", []):
        for sample in intent.get("samples", []):
            if SLOT.search(sample):
                continue
            key = canonical(sample)
            if key in literal:
                problems.append(f"sample {key!r} is listed in {literal[key]} and {intent['name']}")
            literal.setdefault(key, intent["name"])
    filled: dict[str, set[str]] = defaultdict(set)
    big: dict[str, list[tuple[str, str]]] = defaultdict(list)     # intent -> (sample, regex)
    skeletons: dict[str, set[str]] = defaultdict(set)
    for intent in language_model.get("intents", []):
        slot_types = {s["name"]: s.get("type", "") for s in intent.get("slots", [])}
        for sample in intent.get("samples", []):
            if not SLOT.search(sample):
                continue
            if fill_count(sample, slot_types, types) > MAX_FILLS:
                big[intent["name"]].append((sample, pattern(sample, slot_types, types)))
                skeletons[skeleton(sample, slot_types)].add(intent["name"])
                continue
            for text in fills(sample, slot_types, types):
                owner = literal.get(text)
                if owner is not None and owner != intent["name"]:
                    problems.append(f"{owner} sample {text!r} equals {intent['name']} sample {sample!r} filled")
                filled[text].add(intent["name"])
    for text, intents in filled.items():
        if len(intents) > 1:
            problems.append(f"{text!r} fills samples of {', '.join(sorted(intents))}")
    for name, samples in big.items():
        # One alternation per intent: a pass over every text instead of one per sample.
        every = re.compile("|".join(f"(?:{regex})" for _, regex in samples))
        for text, owners in [*((t, {o}) for t, o in literal.items()), *filled.items()]:
            if owners - {name} and every.fullmatch(text):
                sample = next(s for s, regex in samples if re.fullmatch(regex, text))
                problems.append(f"{', '.join(sorted(owners - {name}))} sample {text!r} equals {name} "
                                f"sample {sample!r} filled")
    for shape, intents in skeletons.items():
        if len(intents) > 1:
            problems.append(f"{shape!r} is a sample of {', '.join(sorted(intents))}")
    return problems


def sample_problems(language_model: dict[str, Any]) -> list[str]:
    """Characters, spacing and slots of each sample; slot types that exist."""
    types = {t["name"] for t in language_model.get("types", [])}
    problems = []
    for intent in language_model.get("intents", []):
        name = intent.get("name", "")
        declared = {s["name"]: s.get("type", "") for s in intent.get("slots", [])}
        used = set()
        for sample in intent.get("samples", []):
            if not SAMPLE_CHARS.fullmatch(sample) or sample != " ".join(sample.split()):
                problems.append(f"{name}: sample {sample!r} has characters or spacing Alexa refuses")
            if any(c.isdigit() for c in sample):
                problems.append(f"{name}: sample {sample!r} has digits (spell numbers out)")
            for slot in SLOT.findall(sample):
                used.add(slot)
                if slot not in declared:
                    problems.append(f"{name}: sample {sample!r} uses undeclared slot {{{slot}}}")
        for slot, type_name in declared.items():
            if slot not in used:
                problems.append(f"{name}: slot {slot} is declared but no sample uses it")
            if not type_name.startswith("AMAZON.") and type_name not in types:
                problems.append(f"{name}: slot {slot} has undefined type {type_name}")
    for slot_type in language_model.get("types", []):
        for value in slot_type.get("values", []):
            for phrase in [value["name"]["value"], *value["name"].get("synonyms", [])]:
                if any(c.isdigit() for c in phrase) or not re.fullmatch(r"[A-Za-z' .\-]+", phrase):
                    problems.append(f"{slot_type['name']}: value {phrase!r} is not spoken text")
    return problems


def invocation_problems(name: str) -> list[str]:
    """Lowercase letters and spaces, two or more words, no launch words, no digits."""
    problems = []
    if not INVOCATION.fullmatch(name or ""):
        problems.append(f"invocation name {name!r}: lowercase letters, spaces, apostrophes, periods only")
    if len((name or "").split()) < 2:
        problems.append(f"invocation name {name!r}: needs two or more words")
    if LAUNCH_WORDS & set((name or "").split()):
        problems.append(f"invocation name {name!r}: contains a launch word")
    return problems


def lint(model: dict[str, Any]) -> list[str]:
    """Every build problem of an interaction model (the ``interactionModel`` JSON)."""
    language = model.get("interactionModel", model).get("languageModel", {})
    return (invocation_problems(language.get("invocationName", "")) + sample_problems(language)
            + conflicts(language))
