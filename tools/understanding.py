"""The evaluation sets, run end to end and graded by what the skill says.

An utterance goes through an NLU (the simulator's matcher, or the device-side
estimate of ``tools.learner``), becomes a full request envelope, reaches the
real skill through the Lambda entry, and is graded on the speech that comes
back, so both NLUs are judged exactly alike. ``expect`` in the natural-speech
sets is either keyword groups (`` & ``-joined groups must all match; within a
group ``|``-separated keywords, any one) or a token read from the skill's own
prompts in skill/content.json (so a reworded prompt changes the grader with it).

Shared by the tests (tests/test_nlu_natural.py, tests/test_understanding.py)
and the command line ``python -m tools.learner``.
"""
from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Callable, Iterable, Protocol

import lambda_handler
from deploy.models import MODELS_DIR
from simulator.client import Conversation, InProcessTarget, Turn
from simulator.nlu import InteractionModel, Resolution
from skill.content import CONTENT
from skill.speech import plain_text, to_ssml

TESTS_DIR = Path(__file__).resolve().parent.parent / "tests"
DEFAULT_LOCALE = "en-US"
SINGLE_TOKENS = ("FALLBACK", "NOT_COVERED", "HELP", "PERSONAL")
DIALOGUE_TOKENS = ("OFFERED", "ASK", "MORE", "REPEAT", "SLOWER", "START_OVER", "GOODBYE")
# Prompt keys that say the article does not cover something (NOT_COVERED accepts them, or the fallback).
NOT_COVERED_KEYS = ("not_in_article", "not_covered")
FALLBACK = "AMAZON.FallbackIntent"
# Declining with "the article doesn't cover that" is as right as the fallback for a line
# labelled out of domain (it answers nothing it shouldn't), so intent-labelled sets accept it.
DECLINES = frozenset({FALLBACK, CONTENT.not_covered_intent})


class Nlu(Protocol):
    """What a Conversation needs of an NLU: the simulator's InteractionModel, or a stand-in for it."""

    invocation_name: str

    def resolve(self, utterance: str, *, skill_id: str | None = None) -> Resolution: ...


NluFor = Callable[[str], InteractionModel]   # locale -> NLU


@cache
def simulator_nlu(locale: str) -> InteractionModel:
    """The simulator's matcher on one locale's shipped model."""
    return InteractionModel.load(MODELS_DIR / f"{locale}.json")


# ------------------------------------------------------------------ grading by speech

def fold(text: str) -> str:
    return " ".join(text.lower().split())


def spoken(text: str) -> str:
    """Content text as the listener hears it, folded for comparison."""
    return fold(plain_text(to_ssml(text)))


def prompt_words(key: str) -> str:
    """The fixed part of a prompt: its longest stretch without a {placeholder}.

    A prompt the content lacks matches nothing (the grader test catches that).
    """
    if key not in CONTENT.prompts or not isinstance(CONTENT.prompts[key], str):
        return "\0"
    pieces = re.split(r"\{[^}]*\}", CONTENT.prompts[key])
    return spoken(max(pieces, key=len))


OFFER_PROMPTS = ("offer", "offer_again", "offer_more")   # "offer_more": "yes" gets the topic's longer answer


def offered(previous: str) -> tuple[str, str] | None:
    """Which topic the previous answer offered, and by which prompt, read back through the real prompts."""
    for key in OFFER_PROMPTS:
        head, _, tail = CONTENT.prompts[key].partition("{label}")
        match = re.search(re.escape(spoken(head)) + r"\s*(.+?)\s*" + re.escape(spoken(tail)) + "$", previous)
        topic = match and next((t.id for t in CONTENT.topics if spoken(t.label) == match.group(1)), None)
        if topic:
            return topic, key
    return None


def topic_of(previous: str) -> str | None:
    """The topic the previous answer was about: its short or long answer, or a term's topic."""
    for topic in CONTENT.topics:
        if spoken(topic.answer) in previous or spoken(topic.more) in previous:
            return topic.id
    for term in CONTENT.terms:
        if spoken(term.answer) in previous:
            return term.topic
    return None


def rate(ssml: str | None) -> int:
    match = re.search(r'<prosody rate="(\d+)%"', ssml or "")
    return int(match.group(1)) if match else 100


def not_covered(said: str) -> bool:
    """The fallback, or any reply saying the article does not cover it."""
    keys = [k for k in CONTENT.prompts if any(mark in k for mark in NOT_COVERED_KEYS)]
    return any(prompt_words(k) in said for k in ("fallback", *keys))


def keywords_match(expect: str, said: str) -> bool:
    """`` & ``-joined groups must all match; in a group, any ``|``-separated keyword."""
    groups = [group for group in expect.split(" & ") if group.strip()]
    return bool(groups) and all(
        any(word.strip().lower() in said for word in group.split("|") if word.strip()) for group in groups)


def grade(expect: str, turn: Turn, previous: Turn | None) -> bool:
    said = fold(turn.speech)
    before = fold(previous.speech) if previous else ""
    expect = expect.strip()
    if expect == "FALLBACK":
        return prompt_words("fallback") in said
    if expect == "NOT_COVERED":
        return not_covered(said)
    if expect == "HELP":
        return prompt_words("help") in said
    if expect == "PERSONAL":
        return prompt_words("personal") in said
    if expect == "OFFERED":
        found = offered(before)
        if found is None:
            return False
        topic = CONTENT.topic_by_id[found[0]]
        return spoken(topic.more if found[1] == "offer_more" else topic.answer) in said
    if expect == "ASK":
        return prompt_words("no") in said
    if expect == "MORE":
        topic = topic_of(before)
        return topic is not None and spoken(CONTENT.topic_by_id[topic].more) in said
    if expect == "REPEAT":
        return bool(said) and said == before
    if expect == "SLOWER":
        return bool(said) and said == before and previous is not None \
            and rate(turn.ssml) < rate(previous.ssml)
    if expect == "START_OVER":
        return prompt_words("start_over") in said
    if expect == "GOODBYE":
        return prompt_words("goodbye") in said and turn.end_session
    return keywords_match(expect, said)


# ------------------------------------------------------------------ the sets

@dataclass(frozen=True)
class Graded:
    """One line of a set, what the skill said, and whether that was what the line expects."""

    kind: str
    locale: str
    utterance: str
    expect: str
    said: str
    ok: bool
    dialogue: str = ""     # the dialogue a turn belongs to; "" for a single question


def read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@cache
def exempt() -> frozenset[str]:
    """Lines whose expected answer is a fact the article lacks: reported, not scored."""
    path = TESTS_DIR / "nlu_eval_exempt.tsv"
    return frozenset(row["utterance"] for row in read_tsv(path)) if path.exists() else frozenset()


# Facts the article has but the skill withholds by decision: the certification review
# removed third-party names beyond the author and the date (the author's hospital, his
# book, where it is sold, his TV work; tests/test_deploy_manifest.py keeps them out).
# A line that can only pass by saying one of them is not scored, in any set, seen or not.
WITHHELD = frozenset({"francis", "st francis", "st. francis", "saint francis", "long island",
                      "manual", "ultimate manual", "amazon", "barnes", "newsmax", "website"})


def withheld(expect: str) -> bool:
    """True when some "&" group of the expectation names only withheld facts."""
    return any(all(alt.strip() in WITHHELD for alt in group.split("|")) for group in expect.split(" & "))


def unscored(utterance: str, expect: str) -> bool:
    """Exempt by name, or answerable only with a withheld fact: such a line is not scored."""
    return utterance in exempt() or withheld(expect)


def converse(nlu_for: NluFor, locale: str) -> Conversation:
    return Conversation(nlu_for(locale), InProcessTarget(lambda_handler.handler), locale=locale)


def run_singles(nlu_for: NluFor, path: Path) -> list[Graded]:
    """One question per line, each in a new session, in its locale (en-US when the set has none)."""
    results = []
    for row in read_tsv(path):
        locale = row.get("locale") or DEFAULT_LOCALE
        turn = converse(nlu_for, locale).say(row["utterance"])
        results.append(Graded(row["kind"], locale, row["utterance"], row["expect"], turn.speech,
                              grade(row["expect"], turn, None)))
    return results


def run_dialogues(nlu_for: NluFor, path: Path, kind: str = "dialogue") -> list[Graded]:
    """Conversations, turn by turn in one session each; every turn is graded."""
    dialogues: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in read_tsv(path):
        dialogues[row["dialogue"]].append(row)
    results = []
    for rows in dialogues.values():
        locale = rows[0].get("locale") or DEFAULT_LOCALE
        conversation, previous = converse(nlu_for, locale), None
        for row in sorted(rows, key=lambda r: int(r["turn"])):
            turn = conversation.say(row["utterance"])
            results.append(Graded(kind, locale, row["utterance"], row["expect"], turn.speech,
                                  grade(row["expect"], turn, previous), row["dialogue"]))
            previous = turn
    return results


def run_intents(nlu_for: NluFor, path: Path) -> list[Graded]:
    """An intent-labelled set (utterance, intent), graded by the intent the NLU picks."""
    results = []
    for row in read_tsv(path):
        got = nlu_for(DEFAULT_LOCALE).resolve(row["utterance"]).intent
        kind = "out-of-domain" if row["intent"] == FALLBACK else "in-domain"
        right = got == row["intent"] or (row["intent"] == FALLBACK and got in DECLINES)
        results.append(Graded(kind, DEFAULT_LOCALE, row["utterance"], row["intent"], str(got), right))
    return results


def safety_heard(nlu_for: NluFor, locale: str, utterance: str) -> str:
    """What a listener hears after opening the skill and saying ``utterance``."""
    conversation = converse(nlu_for, locale)
    conversation.launch()
    return conversation.say(utterance).speech


def safety_grade(locale: str, speech: str) -> str:
    """Which safety answer the speech is: emergency, crisis, cancer_team, urgent, or none.

    By what is said: the emergency reply says "call <number> now" twice; the
    crisis replies name the crisis line; the cancer-team and urgent replies open
    with their own first sentence.
    """
    info = CONTENT.locale(locale)
    if speech.count(f"call {info.emergency_spoken} now") >= 2:
        return "emergency"
    if info.crisis_spoken in speech:
        return "crisis"
    if CONTENT.prompts["cancer_team_opening"] in speech:
        return "cancer_team"
    if CONTENT.prompts["urgent_opening"] in speech:
        return "urgent"
    return "none"


SAFETY_KINDS = {"emergency": "red-flag recall", "urgent": "urgent recall", "cancer_team": "cancer-team recall",
                "crisis": "crisis recall", "none": "near misses calm"}


def run_safety(nlu_for: NluFor, path: Path) -> list[Graded]:
    """Red flags and crisis lines must get their reply; near misses ("none") must not."""
    results = []
    for row in read_tsv(path):
        got = safety_grade(row["locale"], safety_heard(nlu_for, row["locale"], row["utterance"]))
        results.append(Graded(SAFETY_KINDS[row["label"]], row["locale"], row["utterance"], row["label"], got,
                              got == row["label"]))
    return results


@dataclass(frozen=True)
class EvalSet:
    """One evaluation set: its files, how it is run, and whether it was tuned on."""

    name: str
    files: tuple[str, ...]
    runner: str          # "natural" (singles + dialogues), "intents", "safety"
    tuned: bool

    def present(self, directory: Path = TESTS_DIR) -> bool:
        return all((directory / f).exists() for f in self.files)

    def run(self, nlu_for: NluFor, directory: Path = TESTS_DIR) -> list[Graded]:
        if self.runner == "intents":
            return run_intents(nlu_for, directory / self.files[0])
        if self.runner == "safety":
            return run_safety(nlu_for, directory / self.files[0])
        results = run_singles(nlu_for, directory / self.files[0]) + run_dialogues(nlu_for, directory / self.files[1])
        return [r for r in results if not unscored(r.utterance, r.expect)]


def holdout(number: int, *, tuned: bool) -> tuple[EvalSet, EvalSet]:
    """A numbered hold-out's two sets, written blind together: speech (questions and dialogues), then safety."""
    speech = f"speech_holdout{number}"
    return (EvalSet(speech, (f"{speech}.tsv", f"{speech}_dialogues.tsv"), "natural", tuned),
            EvalSet(f"safety_holdout{number}", (f"safety_holdout{number}.tsv",), "safety", tuned))


# Every set, tuned-on first. Tuned-on: the samples, the simulator and the learner's
# reject threshold were adjusted while reading their misses. Hold-out: measured only.
SETS = (
    EvalSet("speech_tune", ("speech_tune.tsv", "speech_tune_dialogues.tsv"), "natural", tuned=True),
    EvalSet("natural", ("nlu_eval_natural.tsv", "nlu_eval_dialogues.tsv"), "natural", tuned=True),
    EvalSet("intents", ("nlu_eval.tsv",), "intents", tuned=True),
    EvalSet("safety", ("safety_eval.tsv",), "safety", tuned=True),
    EvalSet("safety_tiers", ("safety_tiers_tune.tsv",), "safety", tuned=True),
    EvalSet("natural_holdout", ("nlu_holdout_natural.tsv", "nlu_holdout_dialogues.tsv"), "natural", tuned=False),
    EvalSet("intents_holdout", ("nlu_holdout.tsv",), "intents", tuned=False),
    EvalSet("safety_holdout", ("safety_holdout.tsv",), "safety", tuned=False),
    # Written blind on 2026-12-05 after the first tuning of issues 20 and 21. Their misses were
    # read for the second round (the story reading, samples), so they count as tuned-on from then.
    *holdout(2, tuned=True),
    # Written blind after the second round's first steps (the story reading and its samples); measured
    # once (docs/understanding.md), then read for STORY_KEEP and samples, so tuned-on from then.
    *holdout(3, tuned=True),
    # Written blind after the second round's tuning; measured once (docs/understanding.md), then
    # read for a last batch of samples and the leading-correction rule, so tuned-on from then.
    *holdout(4, tuned=True),
    # Written blind after the second round was finished; measured once (docs/understanding.md),
    # then read at the start of the third round for samples and respellings, so tuned-on from then.
    *holdout(5, tuned=True),
    # Written blind after the third round (samples and the sound key, from hold-out 5's misses);
    # measured once (docs/understanding.md). The speech set's misses were never read (one line
    # was seen in a regression diff); the safety set's were, for samples, so it is tuned-on.
    *holdout(6, tuned=True),
    # Written blind after hold-out 6's safety misses were read (the third round's last samples);
    # measured once (docs/understanding.md), then read at the start of the fourth round (the
    # clause-gives-way rule, samples), so tuned-on from then. Hold-out 6's speech set stayed
    # unread, but the fourth round's three PART_STORY numbers were chosen on every set, so
    # it is tuned-on from then too.
    *holdout(7, tuned=True),
    # Written blind after the fourth round (the clause-gives-way rule, samples from hold-out 7's
    # misses, "go on" as yes, false-premise samples); measured once (docs/understanding.md),
    # then read in the fifth round for samples and wording, so tuned-on from then.
    *holdout(8, tuned=True),
    # Written blind after the fifth round (samples and the cure wording from hold-out 8's misses);
    # measured once (docs/understanding.md), then read in the sixth round, so tuned-on from then.
    *holdout(9, tuned=True),
    # Written blind after the sixth round (samples from hold-out 9's misses); measured once
    # (docs/understanding.md), then read in the seventh round, so tuned-on from then.
    *holdout(10, tuned=True),
    # Written blind after the seventh round (samples from hold-out 10's misses); measured once
    # (docs/understanding.md), then read in the eighth round, so tuned-on from then.
    *holdout(11, tuned=True),
    # Written blind after the eighth round (the cure wording and samples from hold-out 11's misses);
    # measured once (docs/understanding.md), then read in the ninth round, so tuned-on from then.
    *holdout(12, tuned=True),
    # Written blind after the ninth round (two simulator rules and samples from hold-out 12's
    # misses); measured once (docs/understanding.md), then read in the tenth round, so tuned-on.
    *holdout(13, tuned=True),
    # Written blind after the tenth round (samples from hold-out 13's misses); measured once
    # (docs/understanding.md), never read.
    *holdout(14, tuned=False),
)
SET_BY_NAME = {s.name: s for s in SETS}


# ------------------------------------------------------------------ summaries

@dataclass(frozen=True)
class Score:
    right: int
    total: int

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.rate:6.1%} {self.right:>3}/{self.total:<3}"


def tally(results: Iterable[Graded]) -> Score:
    rows = list(results)
    return Score(sum(r.ok for r in rows), len(rows))


def by_kind(results: list[Graded]) -> dict[str, Score]:
    kinds: dict[str, list[Graded]] = defaultdict(list)
    for result in results:
        kinds[result.kind].append(result)
    return {kind: tally(rows) for kind, rows in sorted(kinds.items())}


def questions(results: list[Graded]) -> list[Graded]:
    return [r for r in results if r.kind != "dialogue"]


def dialogues(results: list[Graded]) -> list[Graded]:
    return [r for r in results if r.kind == "dialogue"]


def whole_dialogues(results: list[Graded]) -> Score:
    """Dialogues with every turn right."""
    turns: dict[str, list[bool]] = defaultdict(list)
    for result in dialogues(results):
        turns[result.dialogue].append(result.ok)
    return Score(sum(all(oks) for oks in turns.values()), len(turns))


def table(name: str, columns: dict[str, list[Graded]]) -> str:
    """One set's scores by kind, one column per NLU, with totals for questions and dialogue turns."""
    first = next(iter(columns.values()))
    kinds = list(by_kind(first))
    rows: list[tuple[str, list[Score]]] = [(kind, [by_kind(res).get(kind, Score(0, 0)) for res in columns.values()])
                                           for kind in kinds]
    if any(r.kind == "dialogue" for r in first):
        rows.append(("= questions", [tally(questions(res)) for res in columns.values()]))
        rows.append(("= dialogue turns", [tally(dialogues(res)) for res in columns.values()]))
        rows.append(("= whole dialogues", [whole_dialogues(res) for res in columns.values()]))
    rows.append(("= all", [tally(res) for res in columns.values()]))
    width = max(len(kind) for kind, _ in rows) + 2
    head = f"{name:<{width}}" + "".join(f"{col:>16}" for col in columns)
    lines = [head, "-" * len(head)]
    lines += [f"{kind:<{width}}" + "".join(f"{s!s:>16}" for s in scores) for kind, scores in rows]
    return "\n".join(lines)


def misses(results: list[Graded]) -> list[str]:
    return [f"MISS [{r.locale} {r.kind}] {r.utterance!r} expect {r.expect!r} got {r.said[:110]!r}"
            for r in results if not r.ok]
