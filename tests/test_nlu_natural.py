"""How people really talk, end to end: utterance -> NLU -> envelope -> skill -> answer.

The natural-speech sets were written by helpers who never saw the samples,
and are graded by what the skill *says*, not by intent name (the grader lives
in tools/understanding.py, shared with the device-side estimate): ``expect``
is keyword groups (`` & ``-joined groups must all match, within a group any
``|``-separated keyword) or a token recognised from the skill's own prompts in
skill/content.json (so a reworded prompt changes the grader with it).

- ``nlu_eval_natural.tsv`` + ``nlu_eval_dialogues.tsv`` and ``speech_tune.tsv`` +
  ``speech_tune_dialogues.tsv`` (with a locale column: each line runs in its
  locale) were tuned on: their misses were read while writing samples.
- ``nlu_holdout_natural.tsv`` + ``nlu_holdout_dialogues.tsv`` were added after
  tuning and are measured, never tuned on.

The scores of every set, simulator beside the device-side estimate, are
checked and printed by tests/test_understanding.py. This file checks the sets
and the grader itself. ``nlu_eval_exempt.tsv`` lists the few lines whose
expected answer is a fact the article does not contain: reported, not scored.
"""
from __future__ import annotations

import re

import pytest

from deploy.models import MODELS_DIR
from simulator.client import Turn
from simulator.nlu import InteractionModel
from skill.content import CONTENT
from tools.understanding import (DIALOGUE_TOKENS, SINGLE_TOKENS, TESTS_DIR, converse, grade, keywords_match,
                                 read_tsv, withheld)

LOCALES = set(CONTENT.locales)


def tokens_in(rows: list[dict[str, str]]) -> set[str]:
    return {r["expect"] for r in rows if re.fullmatch(r"[A-Z_]+", r["expect"])}


def test_the_sets_are_what_the_issues_asked_for():
    singles = read_tsv(TESTS_DIR / "nlu_eval_natural.tsv")
    dialogues = read_tsv(TESTS_DIR / "nlu_eval_dialogues.tsv")
    assert len(singles) >= 200 and len({r["dialogue"] for r in dialogues}) >= 25
    assert len({r["kind"] for r in singles}) >= 5
    assert tokens_in(singles) <= set(SINGLE_TOKENS)
    assert tokens_in(dialogues) <= set(SINGLE_TOKENS + DIALOGUE_TOKENS)


def test_the_speech_tuning_set_covers_twelve_kinds_in_every_locale():
    singles = read_tsv(TESTS_DIR / "speech_tune.tsv")
    dialogues = read_tsv(TESTS_DIR / "speech_tune_dialogues.tsv")
    assert len(singles) >= 300 and len({r["dialogue"] for r in dialogues}) >= 40
    assert len({r["kind"] for r in singles}) == 12
    assert {r["locale"] for r in singles} == {r["locale"] for r in dialogues} == LOCALES
    assert tokens_in(singles) <= set(SINGLE_TOKENS)
    assert tokens_in(dialogues) <= set(SINGLE_TOKENS + DIALOGUE_TOKENS)
    for rows in (singles, dialogues):     # every keyword group has a keyword
        assert all(all(g.strip(" |") for g in r["expect"].split(" & ")) for r in rows)


def test_special_tokens_are_recognised_from_the_real_prompts():
    """The grader itself can fail: a wrong answer is not taken for a token."""
    first, second = converse_pair()
    assert grade("FALLBACK", first["fallback"], None)
    assert not grade("FALLBACK", first["topic"], None)
    assert grade("NOT_COVERED", first["fallback"], None) and not grade("NOT_COVERED", first["topic"], None)
    assert not grade("NOT_COVERED", first["help"], None)
    assert grade("HELP", first["help"], None) and not grade("HELP", first["topic"], None)
    assert grade("PERSONAL", first["personal"], None) and not grade("PERSONAL", first["fallback"], None)
    assert grade("OFFERED", second["yes"], first["topic"])
    assert grade("OFFERED", second["yes after more"], second["more"])
    assert grade("OFFERED", second["yes after a term"], first["zometa"])
    assert not grade("OFFERED", second["yes"], first["zometa"])
    assert not grade("OFFERED", first["topic"], first["topic"])
    assert grade("MORE", second["more"], first["topic"]) and not grade("MORE", second["yes"], first["topic"])
    assert grade("REPEAT", second["repeat"], first["topic"]) and not grade("REPEAT", second["yes"], first["topic"])
    assert grade("SLOWER", second["slower"], first["topic"]) and not grade("SLOWER", second["repeat"], first["topic"])
    assert grade("ASK", second["no"], first["topic"]) and not grade("ASK", second["yes"], first["topic"])
    assert grade("START_OVER", second["start over"], first["topic"])
    assert grade("GOODBYE", second["stop"], first["topic"]) and not grade("GOODBYE", first["help"], None)
    assert grade("zoledronic|zometa", first["zometa"], None) and not grade("zoledronic", first["help"], None)


def test_keyword_groups_must_all_match():
    said = "zometa is given into a vein every three to four weeks"
    assert keywords_match("vein|drip", said)
    assert keywords_match("vein|drip & weeks", said)
    assert not keywords_match("vein & under the skin", said)
    assert not keywords_match("", said)


def test_each_line_runs_in_its_own_locale():
    """An emergency heard in en-GB gives the UK number, the way the locale column asks."""
    spoken = {locale: converse(lambda loc: InteractionModel.load(MODELS_DIR / f"{loc}.json"), locale)
              .say("i can't feel my legs and i can't pee").speech for locale in ("en-GB", "en-AU")}
    assert "nine nine nine" in spoken["en-GB"] and "triple zero" in spoken["en-AU"]


def converse_pair() -> tuple[dict[str, Turn], dict[str, Turn]]:
    """Reference turns, reached by intent (no NLU) so the grader is tested on its own."""
    model = InteractionModel.load(MODELS_DIR / "en-US.json")
    one = lambda name, values=None: converse(lambda _: model, "en-US").intent(name, values)  # noqa: E731
    first = {"fallback": one("AMAZON.FallbackIntent"), "help": one("AMAZON.HelpIntent"),
             "personal": one("PersonalQuestionIntent"), "topic": one("WhereItSpreadsIntent"),
             "zometa": one(CONTENT.glossary_intent, {CONTENT.glossary_slot: "zometa"})}
    second = {}
    conversation = converse(lambda _: model, "en-US")
    conversation.intent("WhereItSpreadsIntent")
    second["more"] = conversation.intent("TellMeMoreIntent")
    second["yes after more"] = conversation.intent("AMAZON.YesIntent")
    conversation = converse(lambda _: model, "en-US")
    conversation.intent(CONTENT.glossary_intent, {CONTENT.glossary_slot: "zometa"})
    second["yes after a term"] = conversation.intent("AMAZON.YesIntent")
    for name, intent in (("yes", "AMAZON.YesIntent"), ("more", "TellMeMoreIntent"), ("repeat", "AMAZON.RepeatIntent"),
                         ("slower", "SlowerIntent"), ("no", "AMAZON.NoIntent"),
                         ("start over", "AMAZON.StartOverIntent"), ("stop", "AMAZON.StopIntent")):
        conversation = converse(lambda _: model, "en-US")
        conversation.intent("WhereItSpreadsIntent")
        second[name] = conversation.intent(intent)
    return first, second


@pytest.mark.parametrize("expect, unscored", [
    ("francis|long island", True),                       # only the author's hospital passes
    ("manual & amazon|barnes|wellness|online", True),     # the book's title is needed
    ("samadi & st francis|saint francis|long island", True),
    ("francis|long island|urolog|robotic|surgeon", False),  # "urologic oncologist" passes
    ("samadi|urologic|francis", False),
    ("lymph|node & rib|pelvi|spine|spinal", False),
])
def test_a_line_that_needs_a_withheld_fact_is_not_scored(expect: str, unscored: bool) -> None:
    """The certification review removed the author's hospital and book; a blind writer still asks for them."""
    assert withheld(expect) is unscored


def test_exemptions_are_few_named_and_really_in_the_set():
    rows = read_tsv(TESTS_DIR / "nlu_eval_exempt.tsv")
    said = {r["utterance"] for name in ("nlu_eval_natural.tsv", "nlu_eval_dialogues.tsv", "nlu_holdout_natural.tsv",
                                        "nlu_holdout_dialogues.tsv") for r in read_tsv(TESTS_DIR / name)}
    assert len(rows) <= 12 and all(row["reason"] for row in rows)
    assert {row["utterance"] for row in rows} <= said
