"""The matcher's `.why` tells the truth, and a greeting with nothing after it is not a question.

Before: "hello there" lost its opener ("hello") and the lone "there" scored 75
against "is there hope", so the simulator gave the research answer; `.why`
ranked the words as said and showed a list whose best was 43, under a header
of 75.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from deploy.models import MODELS_DIR
from simulator import cli
from simulator.nlu import PART_STORY_WORDS, STORY_OVERRIDE, InteractionModel

HERE = Path(__file__).parent
SETS = ["nlu_eval.tsv", "nlu_holdout.tsv", "nlu_eval_natural.tsv", "safety_eval.tsv"]


def tiny_model() -> InteractionModel:
    """No greeting intent: what Alexa had for "hello there" before the model got one."""
    return InteractionModel({"interactionModel": {"languageModel": {
        "invocationName": "tiny guide",
        "intents": [
            {"name": "ResearchIntent", "samples": ["is there hope", "is there new research", "what is new"]},
            {"name": "PsaIntent", "samples": ["what is psa", "what does a psa test measure", "tell me about psa"]},
            {"name": "CallIntent", "samples": ["call for help now", "get help now"]},
            {"name": "AMAZON.FallbackIntent", "samples": []},
        ],
        "types": []}}})


@pytest.mark.parametrize("utterance", ["hello there", "oh hello there", "hey now", "well there"])
def test_a_greeting_with_no_question_after_it_is_not_read_as_its_last_word(utterance):
    assert tiny_model().resolve(utterance).intent == "AMAZON.FallbackIntent"


@pytest.mark.parametrize("utterance, intent", [("hello there what is psa", "PsaIntent"),
                                               ("so okay is there hope", "ResearchIntent"),
                                               ("hi there tell me about psa", "PsaIntent")])
def test_openers_before_a_real_question_are_still_dropped(utterance, intent):
    assert tiny_model().resolve(utterance).intent == intent


def why(*lines: str) -> str:
    out = io.StringIO()
    cli._Printer(out, io.StringIO(), cli.build_parser().parse_args([])).why(
        InteractionModel.load(MODELS_DIR / "en-US.json"), *lines)
    return out.getvalue()


def test_why_says_what_words_it_scored_and_its_list_agrees_with_its_header():
    shown = why("i tweaked my back playing hockey last week and it is getting better")
    header, scored, first = shown.splitlines()[:3]
    assert header.startswith("  fuzzy: ") and scored.startswith("  scored as: '")
    score, intent = re.search(r"\((\S+), threshold", header)[1], header.split()[1]
    assert first.split()[:2] == [f"{float(score):.2f}", intent]


def test_why_on_a_fallback_shows_no_score_its_list_could_contradict():
    header = why("order me a pizza").splitlines()[0]
    assert header == "  fallback: AMAZON.FallbackIntent (no intent reached threshold 58)"


def test_the_reading_a_resolution_scored_ranks_the_same_everywhere():
    """Over every line of the labelled sets: the fuzzy winner tops the ranking of the words it scored,
    with the same score, and no fallback leaves an intent above the threshold there."""
    model = InteractionModel.load(MODELS_DIR / "en-US.json")
    checked = 0
    for name in SETS:
        with open(HERE / name, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                resolution = model.resolve(row["utterance"])
                if resolution.reading is None:
                    continue
                checked += 1
                top = model.rank(resolution.reading, limit=1, said_mood=resolution.reading_mood)[0]
                if resolution.kind == "fuzzy":
                    assert (top.intent, top.score) == (resolution.intent, resolution.score), row["utterance"]
                elif resolution.kind == "statistical":
                    # Read whole by simulator/story.py because no sample scored well: none reached STORY_OVERRIDE.
                    assert top.score < STORY_OVERRIDE, row["utterance"]
                elif resolution.kind == "whole":
                    # A clause's match gave way to the whole read by its words: the reading is the whole.
                    assert len(resolution.reading.split()) >= PART_STORY_WORDS, row["utterance"]
                else:
                    assert top.score < model.threshold, row["utterance"]
    assert checked > 300


def test_why_says_when_the_whole_overruled_a_clause():
    said = "our kids want to know which scans show if the cancer spread"
    header = why(said).splitlines()[0]
    assert header == ("  whole: ImagingTestsIntent (a clause matched another intent, "
                      "but the whole, read by its words, points here)")


def test_why_says_when_a_long_story_was_read_whole():
    """A story no sample matches well is classified by its words: .why names that, with no sample score."""
    story = ("so i spent the whole weekend clearing out the shed and my back has been sore ever since and "
             "since lunch i can't feel anything when i wipe myself anyway is a hot bath a good idea")
    header = why(story).splitlines()[0]
    assert header == "  statistical: EmergencyIntent (no sample matched well, the whole story read by its words)"
