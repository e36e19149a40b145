"""The interaction models: generated from content, valid ASK, and in step with the code.

Every locale's file is the same generated model, so its content is checked once,
on what ``build_model`` makes, and the committed files are checked to be in step
with it (``test_committed_models_match_the_content``).
"""
from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from skill.content import CONTENT
from skill.handlers import handled_intents
from deploy.lint import conflicts, fills, lint
from deploy.models import MODELS_DIR, build_model, stale_models
from testkit.envelopes import LOCALES

LAUNCH_WORDS = {"ask", "open", "tell", "launch", "alexa", "skill", "load", "begin", "enable",
                "start", "play", "resume", "run", "use", "talk"}
SAMPLE_CHARS = re.compile(r"^[a-z' {}]+$")


@pytest.fixture(scope="module")
def model():
    return build_model()["interactionModel"]["languageModel"]


def test_one_model_per_locale_and_no_others():
    assert sorted(p.stem for p in MODELS_DIR.glob("*.json")) == sorted(LOCALES)
    assert sorted(CONTENT.locales) == sorted(LOCALES)


def test_committed_models_match_the_content():
    assert stale_models() == [], "run `make models` and commit interaction_model/"


def test_drift_is_detected(tmp_path):
    for locale in LOCALES:
        (tmp_path / f"{locale}.json").write_text(json.dumps(build_model(), indent=2) + "\n")
    edited = build_model()
    edited["interactionModel"]["languageModel"]["intents"][0]["samples"].append("an extra sample")
    (tmp_path / "en-GB.json").write_text(json.dumps(edited))
    assert "en-GB" in stale_models(directory=tmp_path)


def test_ask_shape(model):
    assert set(model) == {"invocationName", "intents", "types"}
    for intent in model["intents"]:
        assert set(intent) <= {"name", "slots", "samples"}
        assert isinstance(intent["name"], str) and isinstance(intent["samples"], list)
        for slot in intent.get("slots", []):
            assert set(slot) == {"name", "type"}


def test_invocation_name_is_valid(model):
    name = model["invocationName"]
    assert re.fullmatch(r"[a-z][a-z' .]*[a-z]", name)
    assert len(name.split()) >= 2
    assert not LAUNCH_WORDS & set(name.split())


def test_code_and_model_know_the_same_intents(model):
    assert {i["name"] for i in model["intents"]} == handled_intents()


def test_every_topic_has_an_intent_with_enough_samples(model):
    by_name = {i["name"]: i for i in model["intents"]}
    for topic in CONTENT.topics:
        assert len(by_name[topic.intent]["samples"]) >= 25, topic.intent


def test_fallback_and_builtins_are_declared(model):
    names = {i["name"] for i in model["intents"]}
    for builtin in ("AMAZON.FallbackIntent", "AMAZON.HelpIntent", "AMAZON.StopIntent", "AMAZON.CancelIntent",
                    "AMAZON.NavigateHomeIntent", "AMAZON.YesIntent", "AMAZON.NoIntent",
                    "AMAZON.RepeatIntent", "AMAZON.StartOverIntent"):
        assert builtin in names


def test_no_sample_is_repeated_within_or_across_intents(model):
    counts = Counter(" ".join(s.split()) for i in model["intents"] for s in i["samples"])
    assert [s for s, n in counts.items() if n > 1] == []


def test_samples_are_spoken_text(model):
    for intent in model["intents"]:
        for sample in intent["samples"]:
            assert SAMPLE_CHARS.match(sample), sample
            assert sample == " ".join(sample.split())


def test_every_slot_is_declared_and_used(model):
    types = {t["name"] for t in model["types"]}
    for intent in model["intents"]:
        declared = {s["name"] for s in intent.get("slots", [])}
        used = {m for s in intent["samples"] for m in re.findall(r"{(\w+)}", s)}
        assert used == declared, intent["name"]
        for slot in intent.get("slots", []):
            assert slot["type"] in types or slot["type"].startswith("AMAZON.")


def test_slot_types_have_values_ids_and_synonyms(model):
    for slot_type in model["types"]:
        assert re.fullmatch(r"[A-Za-z_]+", slot_type["name"])
        ids = [v["id"] for v in slot_type["values"]]
        assert len(ids) == len(set(ids)) and all(ids)
        for value in slot_type["values"]:
            assert value["name"]["value"] and value["name"]["synonyms"]
        phrases = Counter(p for v in slot_type["values"] for p in (v["name"]["value"], *v["name"]["synonyms"]))
        assert [p for p, n in phrases.items() if n > 1] == []


def test_the_model_passes_alexas_build_rules(model):
    """Zero utterance conflicts, spoken-text samples, declared slots, a valid invocation name."""
    assert lint({"interactionModel": {"languageModel": model}}) == []


def test_the_lint_finds_each_kind_of_conflict_and_build_error():
    types = [{"name": "TERM", "values": [{"id": "PSA", "name": {"value": "psa", "synonyms": ["p s a"]}}]}]
    model = {"invocationName": "open back pain", "types": types, "intents": [
        {"name": "PsaIntent", "samples": ["what is p s a", "tell me about psa", "psa two"]},
        {"name": "GlossaryIntent", "slots": [{"name": "term", "type": "TERM"}],
         "samples": ["what is {term}", "{term} please", "define {thing}"]},
        {"name": "OtherIntent", "slots": [{"name": "term", "type": "TERM"}],
         "samples": ["tell me about psa", "{term} please", "Psa 2"]},
    ]}
    problems = "\n".join(lint({"interactionModel": {"languageModel": model}}))
    assert "PsaIntent sample 'what is p s a' equals GlossaryIntent" in problems       # slot-filled synonym
    assert "'tell me about psa' is listed in PsaIntent and OtherIntent" in problems   # literal twice
    assert "'psa please' fills samples of GlossaryIntent, OtherIntent" in problems     # two slotted samples
    assert "has digits" in problems and "undeclared slot {thing}" in problems
    assert "launch word" in problems
    clean = {"invocationName": "back pain guide", "types": types,
             "intents": [{"name": "A", "samples": ["what is psa test"]},
                         model["intents"][1] | {"samples": ["what is {term}"]}]}
    assert lint({"interactionModel": {"languageModel": clean}}) == []


def test_samples_with_too_many_fills_are_checked_as_patterns(monkeypatch):
    """A two-slot sample ("{a} versus {b}") is not enumerated past MAX_FILLS, yet its conflicts are found."""
    import deploy.lint as L
    monkeypatch.setattr(L, "MAX_FILLS", 10)   # one slot (6 fills) enumerated, two (36) matched as patterns
    values = [{"id": v.upper(), "name": {"value": v, "synonyms": [f"the {v}"]}} for v in ("psa", "mri", "zometa")]
    pair = [{"name": "a", "type": "TERM"}, {"name": "b", "type": "TERM"}]
    model = {"invocationName": "back pain guide", "types": [{"name": "TERM", "values": values}], "intents": [
        {"name": "TopicIntent", "samples": ["psa versus the mri"]},
        {"name": "CompareIntent", "slots": pair, "samples": ["{a} versus {b}", "is {a} like {b}"]},
        {"name": "OtherIntent", "slots": pair, "samples": ["is {a} like {b}"]},
        {"name": "GlossaryIntent", "slots": pair[:1], "samples": ["{a} versus zometa"]},
    ]}
    problems = "\n".join(lint({"interactionModel": {"languageModel": model}}))
    assert "TopicIntent sample 'psa versus the mri' equals CompareIntent sample '{a} versus {b}'" in problems
    assert "'is {TERM} like {TERM}' is a sample of CompareIntent, OtherIntent" in problems
    assert "GlossaryIntent sample 'psa versus zometa' equals CompareIntent" in problems
    model["intents"] = model["intents"][1:2]
    assert lint({"interactionModel": {"languageModel": model}}) == []


def test_slot_fills_cover_every_value_and_synonym():
    values = {"TERM": ["psa", "p s a", "zometa"]}
    assert sorted(fills("what is {term}", {"term": "TERM"}, values)) == [
        "what is p s a", "what is psa", "what is zometa"]
    assert list(fills("how many {n}", {"n": "AMAZON.NUMBER"}, values)) == []
    assert conflicts({"intents": [], "types": []}) == []
