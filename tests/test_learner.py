"""The device-side estimate itself: trained on samples only, filling slots, rejecting what it does not know."""
from __future__ import annotations

import csv
import json

from deploy.models import MODELS_DIR
from simulator.normalize import normalize
from tools import learner
from tools.learner import FALLBACK, Learner, learned_nlu, out_of_domain
from tools.understanding import TESTS_DIR, converse

TINY = {"interactionModel": {"languageModel": {"invocationName": "test skill", "intents": [
    {"name": "RecipeIntent", "samples": ["how do i make pancakes", "give me a pancake recipe", "how to cook pancakes",
                                         "pancake recipe please", "what goes in pancakes"]},
    {"name": "TimerIntent", "samples": ["set a timer", "start a timer", "timer for my eggs", "set the kitchen timer",
                                        "can you time my eggs"]},
    {"name": "DefineIntent", "slots": [{"name": "term", "type": "TERM"}],
     "samples": ["what is {term}", "what does {term} mean", "they put me on {term} what does it do", "define {term}"]},
    {"name": FALLBACK, "samples": []},
], "types": [{"name": "TERM", "values": [{"id": v.upper(), "name": {"value": v, "synonyms": [f"{v} drug"]}}
                                         for v in ("zometa", "denosumab", "oncologist")]}]}}}


def test_it_learns_intents_from_samples_and_fills_slots_by_a_simple_match():
    learner = Learner(TINY, reject=-0.5)
    assert learner.predict("a recipe for pancakes please").intent == "RecipeIntent"
    assert learner.predict("set a timer for my eggs please").intent == "TimerIntent"
    guess = learner.predict("what is the zometa drug")
    assert guess.intent == "DefineIntent" and guess.values == {"term": "zometa drug"}


def test_of_two_values_it_takes_the_one_placed_where_the_samples_put_the_slot():
    guess = Learner(TINY, reject=-0.5).predict("my oncologist put me on denosumab what does it do")
    assert guess.values == {"term": "denosumab"}


def test_what_it_was_not_taught_goes_to_the_fallback():
    learner = Learner(TINY, reject=-0.5)
    assert learner.predict("what's the weather like in paris tomorrow").intent == FALLBACK
    assert learner.predict("").intent == FALLBACK
    assert Learner(TINY, reject=100.0).predict("pancake recipe please").intent == FALLBACK


def test_its_answers_are_graded_through_the_real_skill():
    turn = converse(learned_nlu, "en-GB").say("what's the difference between denosumab and zometa")
    assert turn.intent == "CompareTermsIntent"
    assert "under the skin" in turn.speech and "vein" in turn.speech


def test_its_out_of_domain_sentences_are_its_own():
    """Written for the tool: no evaluation line and no model sample among them."""
    ours = {normalize(s) for s in out_of_domain()}
    assert len(ours) >= 100
    for path in TESTS_DIR.glob("*.tsv"):
        with open(path, encoding="utf-8", newline="") as fh:
            said = {normalize(row["utterance"]) for row in csv.DictReader(fh, delimiter="\t") if "utterance" in row}
        assert ours & said == set(), path.name
    for path in MODELS_DIR.glob("*.json"):
        model = json.loads(path.read_text())["interactionModel"]["languageModel"]
        assert ours & {normalize(s) for i in model["intents"] for s in i["samples"]} == set(), path.name


def test_its_command_line_prints_a_table_per_set(capsys):
    """`.venv/bin/python -m tools.learner --set intents`, as the README gives it."""
    assert learner.main(["--set", "intents"]) == 0
    out = capsys.readouterr().out
    assert "intents (tuned-on)" in out and "simulator" in out and "learner" in out and "in-domain" in out
