"""How people really talk, end to end: utterance -> simulator NLU -> envelope -> skill -> answer.

``tests/nlu_eval_natural.tsv`` (kind, utterance, expect) and
``tests/nlu_eval_dialogues.tsv`` (dialogue, turn, utterance, expect) were
written by a helper who never saw the samples. They are graded by what the
skill *says*, not by intent name: ``expect`` is either ``|``-separated keywords
(any one must appear in the spoken text) or a special token recognised from
the skill's own prompts and answers in skill/content.json (so a reworded
prompt changes the grader with it).

Only per-kind scores are printed; set ``NLU_NATURAL_SHOW=1`` to list misses
(reading them is tuning on the set: say so if you do). The samples and the
simulator were tuned on these two files; ``tests/nlu_holdout_natural.tsv`` and
``tests/nlu_holdout_dialogues.tsv``, written blind by another helper, were
added only after tuning and are measured, never tuned on.

``tests/nlu_eval_exempt.tsv`` lists the few lines whose expected answer is a
fact the article does not contain (a definition of prostatitis or of a tumor,
the author's employer): answering them as expected would break the rule that
every answer traces to the article, so they are reported, not scored.
"""
from __future__ import annotations

import csv
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

import lambda_handler
from deploy.models import MODELS_DIR
from simulator.client import Conversation, InProcessTarget, Turn
from simulator.nlu import InteractionModel
from skill.content import CONTENT
from skill.speech import plain_text, to_ssml

HERE = Path(__file__).parent
SINGLE_TOKENS = ("FALLBACK", "HELP", "PERSONAL")
DIALOGUE_TOKENS = ("OFFERED", "ASK", "MORE", "REPEAT", "SLOWER", "START_OVER", "GOODBYE")
OVERALL_FLOOR, KIND_FLOOR = 0.90, 0.80
# The held-out pair, never tuned on, measured 88.3% overall and 78% in its
# weakest kind (caregiver) when it was added; its floors are a regression guard
# a little under that, not a target anyone tuned to.
HOLDOUT_OVERALL_FLOOR, HOLDOUT_KIND_FLOOR = 0.85, 0.74


def spoken(text: str) -> str:
    """Content text as the listener hears it, folded for comparison."""
    return fold(plain_text(to_ssml(text)))


def fold(text: str) -> str:
    return " ".join(text.lower().split())


def prompt_words(key: str) -> str:
    """The fixed part of a prompt: its longest stretch without a {placeholder}.

    A prompt the content lacks matches nothing (the grader test catches that).
    """
    if key not in CONTENT.prompts:
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


def offered_topic(previous: str) -> str | None:
    found = offered(previous)
    return found[0] if found else None


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


@dataclass
class Graded:
    kind: str
    utterance: str
    expect: str
    said: str
    ok: bool


def grade(expect: str, turn: Turn, previous: Turn | None) -> bool:
    said = fold(turn.speech)
    before = fold(previous.speech) if previous else ""
    if expect == "FALLBACK":
        return prompt_words("fallback") in said
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
    return any(word.strip().lower() in said for word in expect.split("|") if word.strip())


def read_tsv(name: str) -> list[dict[str, str]]:
    with open(HERE / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="module")
def model() -> InteractionModel:
    return InteractionModel.load(MODELS_DIR / "en-US.json")


def converse(model: InteractionModel) -> Conversation:
    return Conversation(model, InProcessTarget(lambda_handler.handler), locale="en-US")


def exempt() -> set[str]:
    return {row["utterance"] for row in read_tsv("nlu_eval_exempt.tsv")}


def run_singles(model: InteractionModel, name: str = "nlu_eval_natural.tsv") -> list[Graded]:
    results = []
    for row in read_tsv(name):
        turn = converse(model).say(row["utterance"])
        results.append(Graded(row["kind"], row["utterance"], row["expect"], turn.speech,
                              grade(row["expect"], turn, None)))
    return results


def run_dialogues(model: InteractionModel, name: str = "nlu_eval_dialogues.tsv") -> list[Graded]:
    dialogues: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in read_tsv(name):
        dialogues[row["dialogue"]].append(row)
    results = []
    for rows in dialogues.values():
        conversation, previous = converse(model), None
        for row in sorted(rows, key=lambda r: int(r["turn"])):
            turn = conversation.say(row["utterance"])
            results.append(Graded("dialogue", row["utterance"], row["expect"], turn.speech,
                                  grade(row["expect"], turn, previous)))
            previous = turn
    return results


def test_the_sets_are_what_the_issue_asked_for():
    singles = read_tsv("nlu_eval_natural.tsv")
    dialogues = read_tsv("nlu_eval_dialogues.tsv")
    assert len(singles) >= 200 and len({r["dialogue"] for r in dialogues}) >= 25
    assert len({r["kind"] for r in singles}) >= 5
    tokens = {r["expect"] for r in singles if re.fullmatch(r"[A-Z_]+", r["expect"])}
    assert tokens <= set(SINGLE_TOKENS), tokens
    tokens = {r["expect"] for r in dialogues if re.fullmatch(r"[A-Z_]+", r["expect"])}
    assert tokens <= set(SINGLE_TOKENS + DIALOGUE_TOKENS), tokens


def test_special_tokens_are_recognised_from_the_real_prompts():
    """The grader itself can fail: a wrong answer is not taken for a token."""
    first, second = converse_pair()
    assert grade("FALLBACK", first["fallback"], None)
    assert not grade("FALLBACK", first["topic"], None)
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


def converse_pair() -> tuple[dict[str, Turn], dict[str, Turn]]:
    """Reference turns, reached by intent (no NLU) so the grader is tested on its own."""
    model = InteractionModel.load(MODELS_DIR / "en-US.json")
    one = lambda name, values=None: converse(model).intent(name, values)  # noqa: E731
    first = {"fallback": one("AMAZON.FallbackIntent"), "help": one("AMAZON.HelpIntent"),
             "personal": one("PersonalQuestionIntent"), "topic": one("WhereItSpreadsIntent"),
             "zometa": one(CONTENT.glossary_intent, {CONTENT.glossary_slot: "zometa"})}
    second = {}
    conversation = converse(model)
    conversation.intent("WhereItSpreadsIntent")
    second["more"] = conversation.intent("TellMeMoreIntent")
    second["yes after more"] = conversation.intent("AMAZON.YesIntent")
    conversation = converse(model)
    conversation.intent(CONTENT.glossary_intent, {CONTENT.glossary_slot: "zometa"})
    second["yes after a term"] = conversation.intent("AMAZON.YesIntent")
    for name, intent in (("yes", "AMAZON.YesIntent"), ("more", "TellMeMoreIntent"), ("repeat", "AMAZON.RepeatIntent"),
                         ("slower", "SlowerIntent"), ("no", "AMAZON.NoIntent"),
                         ("start over", "AMAZON.StartOverIntent"), ("stop", "AMAZON.StopIntent")):
        conversation = converse(model)
        conversation.intent("WhereItSpreadsIntent")
        second[name] = conversation.intent(intent)
    return first, second


@pytest.mark.parametrize("singles, dialogues, floors", [
    ("nlu_eval_natural.tsv", "nlu_eval_dialogues.tsv", (OVERALL_FLOOR, KIND_FLOOR)),
    ("nlu_holdout_natural.tsv", "nlu_holdout_dialogues.tsv", (HOLDOUT_OVERALL_FLOOR, HOLDOUT_KIND_FLOOR)),
], ids=["tuned-on", "held-out"])
def test_natural_questions_and_dialogues_are_understood(model, singles, dialogues, floors):
    if not (HERE / singles).exists():
        pytest.skip(f"{singles} not present")
    skip = exempt()
    everything = run_singles(model, singles) + run_dialogues(model, dialogues)
    results = [r for r in everything if r.utterance not in skip]
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for result in results:
        by_kind[result.kind].append(result.ok)
    overall = sum(r.ok for r in results) / len(results)
    lines = [f"{kind}: {sum(oks)}/{len(oks)} = {sum(oks) / len(oks):.0%}" for kind, oks in sorted(by_kind.items())]
    report = (f"{singles}: overall {overall:.1%} ({sum(r.ok for r in results)}/{len(results)}, "
              f"{len(everything) - len(results)} exempt lines not scored); " + "; ".join(lines))
    print(report)
    if os.environ.get("NLU_NATURAL_SHOW"):
        for r in results:
            if not r.ok:
                print(f"MISS [{r.kind}] {r.utterance!r} expect {r.expect!r} got {r.said[:110]!r}")
    worst = min(sum(oks) / len(oks) for oks in by_kind.values())
    assert overall >= floors[0] and worst >= floors[1], report


def test_exemptions_are_few_named_and_really_in_the_set():
    rows = read_tsv("nlu_eval_exempt.tsv")
    said = {r["utterance"] for name in ("nlu_eval_natural.tsv", "nlu_eval_dialogues.tsv") for r in read_tsv(name)}
    assert len(rows) <= 12 and all(row["reason"] for row in rows)
    assert {row["utterance"] for row in rows} <= said
