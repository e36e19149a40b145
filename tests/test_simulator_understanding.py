"""How the simulator reads people as they really talk: lead-ins, caregivers, indirect and misheard words.

A small inline model, so each behaviour is shown on its own; the skill's own
models are measured in tests/test_nlu_natural.py.
"""
from __future__ import annotations

import pytest

from deploy.models import MODELS_DIR
from simulator import nlu
from simulator.nlu import InteractionModel, sound_key
from simulator.normalize import clause_starts, direct_question, first_person, strip_hedges, tokenize

MODEL = {"interactionModel": {"languageModel": {
    "invocationName": "garden guide",
    "intents": [
        {"name": "WaterIntent", "samples": ["how often should i water my roses", "how much water do roses need",
                                            "when should i water my plants", "do i need to water my roses"]},
        {"name": "PruneIntent", "samples": ["when do i prune roses", "how do i prune my roses",
                                            "should i cut back my roses in winter"]},
        {"name": "FollowUpIntent", "samples": ["what does that mean", "how does it work", "why is that"]},
        {"name": "DefineIntent", "slots": [{"name": "word", "type": "GARDEN_WORD"}],
         "samples": ["what is {word}", "what does {word} mean", "{word}"]},
        {"name": "AMAZON.HelpIntent", "samples": []},
        {"name": "AMAZON.FallbackIntent", "samples": []},
    ],
    "types": [{"name": "GARDEN_WORD", "values": [
        {"id": "MULCH", "name": {"value": "mulch", "synonyms": ["mulching"]}},
        {"id": "APHID", "name": {"value": "aphid", "synonyms": ["aphids", "a fid"]}},
        {"id": "COMPOST", "name": {"value": "compost", "synonyms": ["compost heap"]}},
    ]}],
}}}


@pytest.fixture(scope="module")
def model() -> InteractionModel:
    return InteractionModel(MODEL)


def test_a_lead_in_does_not_hide_the_question(model):
    said = "so i've been out in the yard all morning and my neighbour keeps asking me when do i prune roses"
    result = model.resolve(said)
    assert (result.intent, result.kind) == ("PruneIntent", "exact")


def test_an_aside_after_the_question_is_dropped(model):
    result = model.resolve("what is mulch my neighbour swears by it")
    assert result.intent == "DefineIntent" and result.slots["word"]["value"] == "mulch"


def test_typed_punctuation_splits_clauses(model):
    assert clause_starts("i need help, when do i prune roses?") == frozenset({3})
    assert model.resolve("right, okay. when do i prune roses").intent == "PruneIntent"


def test_a_pointing_question_inside_a_longer_one_keeps_its_topic_words(model):
    """ "my roses need mulch, what does that mean": the topic is in the utterance, not the session."""
    result = model.resolve("my roses are covered in aphids what does that mean")
    assert result.intent != "FollowUpIntent"
    assert model.resolve("what does that mean").intent == "FollowUpIntent"


def test_caregiver_and_third_person_forms_read_as_the_first_person(model):
    assert first_person(tokenize("does he need to water his roses")).text == "do i need to water my roses"
    assert first_person(tokenize("my husband's roses")).text == "my roses"
    assert first_person(tokenize("my dad has roses")).text == "i have roses"
    assert model.resolve("does he need to water his roses").intent == "WaterIntent"


def test_indirect_questions_take_the_direct_word_order(model):
    assert direct_question(tokenize("what mulch is")).text == "what is mulch"
    assert direct_question(tokenize("what mulch means")).text == "what does mulch mean"
    assert direct_question(tokenize("if i should water my roses")).text == "should i water my roses"
    assert model.resolve("my daughter wants to know what mulch is").slots["word"]["value"] == "mulch"


def test_hedges_and_openers_are_dropped():
    assert strip_hedges(tokenize("so okay what actually is mulch")).text == "what is mulch"
    assert strip_hedges(tokenize("ok")).text == "ok"


def test_misheard_spellings_become_the_slot_value_and_keep_what_was_said(model):
    result = model.resolve("what is a fid")
    slot = result.slots["word"]
    assert slot["value"] == "a fid"
    assert slot["resolutions"]["resolutionsPerAuthority"][0]["values"][0]["value"]["id"] == "APHID"


def test_split_and_misspelled_words_are_joined_to_the_models_words(model):
    result = model.resolve("what is com post")
    assert result.slots["word"]["resolutions"]["resolutionsPerAuthority"][0]["values"][0]["value"]["id"] == "COMPOST"
    assert result.slots["word"]["value"] == "com post"
    assert model.resolve("when do i prunne roses").intent == "PruneIntent"


def test_a_bare_slot_value_is_understood_but_unknown_words_are_not(model):
    assert model.resolve("mulch").intent == "DefineIntent"
    assert model.resolve("play some jazz").intent == "AMAZON.FallbackIntent"
    assert model.resolve("so my car broke down and the mechanic wants to know what is the weather").intent \
        == "AMAZON.FallbackIntent"


@pytest.fixture(scope="module")
def shipped() -> InteractionModel:
    return InteractionModel.load(MODELS_DIR / "en-US.json")


@pytest.mark.parametrize("said, intent, term", [
    ("what is dennis sue mab", "GlossaryIntent", "denosumab"),       # unstressed vowels misheard
    ("tell me about denise o mab", "GlossaryIntent", "denosumab"),
    ("what's a pea essay test", "PsaTestIntent", None),               # two letters run together
    ("what is a pee ess eh test", "PsaTestIntent", None),
])
def test_misheard_drug_names_and_letters_reach_the_model_word(shipped, said, intent, term):
    """The recogniser is biased toward the model's own words; the simulator repairs toward them too."""
    result = shipped.resolve(said)
    assert result.intent == intent
    if term:
        value = result.slots["term"]["resolutions"]["resolutionsPerAuthority"][0]["values"][0]["value"]
        assert value["name"].lower() == term


def test_a_vowel_run_is_one_sound_but_consonants_still_count():
    """"zometa" must not sound like "samadi" (a d-as-t fold made it so, and was dropped)."""
    assert sound_key("denise o mab") == sound_key("denosumab")
    assert sound_key("zometa") != sound_key("samadi")


@pytest.mark.parametrize("said, intent, clause_intent", [
    # "...| what test would the doctor order" alone is the scans question; the whole is the bone scan's.
    ("my uncle broke two bones for no clear reason which test would the doctor order",
     "BoneScanIntent", "ImagingTestsIntent"),
    # A clause matched a crisis sample at the edge of the bar; the whole is plainly about scans.
    ("our kids want to know which scans show if the cancer spread", "ImagingTestsIntent", "CrisisIntent"),
])
def test_a_clause_gives_way_when_the_whole_plainly_points_elsewhere(shipped, monkeypatch, said, intent, clause_intent):
    """Alexa reads the whole utterance; a clause of it does not outvote what the whole plainly asks.

    With the rule off (a word count no line reaches) the clause's reading stands, so the test can fail.
    """
    assert shipped.resolve(said).intent == intent
    monkeypatch.setattr(nlu, "PART_STORY_WORDS", 99)
    assert shipped.resolve(said).intent == clause_intent != intent


def test_small_talk_around_a_red_flag_does_not_read_the_story_out_of_domain(shipped, monkeypatch):
    """A long story's best in-domain reading may trail the out-of-domain class a little.

    Naive Bayes counts each word of the small talk against the domain; the dragging foot in the
    middle is what the listener needs heard. With the margin it had before (0.1 ahead), the same
    story fell back, so the test can fail.
    """
    said = ("i've been a bit sore since painting the fence at the weekend and now my foot drags "
            "when i walk anyway which paint is good for fences")
    assert shipped.resolve(said).intent == "EmergencyIntent"
    monkeypatch.setattr(nlu, "STORY_MARGIN", 0.1)
    assert shipped.resolve(said).intent == "AMAZON.FallbackIntent"


@pytest.mark.parametrize("said, intent, term", [
    ("not zometa denosumab what does it do", "GlossaryIntent", "denosumab"),
    ("no not the bone scan psa what is it", "GlossaryIntent", "psa"),
])
def test_a_correction_names_one_term_and_the_next_is_asked_about(shipped, monkeypatch, said, intent, term):
    """Said without commas, "not zometa denosumab ..." corrects the first term and asks about the second.

    With the correction running on to the question word (as it did), both terms were left out
    and a bare follow-up was read, so the test can fail.
    """
    heard = shipped.resolve(said)
    assert (heard.intent, heard.slots["term"]["value"]) == (intent, term)
    monkeypatch.setattr(InteractionModel, "_correction", lambda self, canon, terms: nlu.contrasted(canon))
    assert shipped.resolve(said).intent != intent
