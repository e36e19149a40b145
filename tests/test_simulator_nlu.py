"""Simulator NLU: normalisation, matching, built-ins, invocation forms (fixture model only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.builtins import BUILTIN_PHRASES
from simulator.invocation import Invocation, parse_invocation
from simulator.nlu import InteractionModel, ModelError
from simulator.normalize import contrasted, normalize, tokenize

# Thresholds are per model: this tiny fixture separates its cases at 70, while
# the skill's own models use the default measured on tests/nlu_eval.tsv.
FUZZY_THRESHOLD = 70.0
FIXTURE = Path(__file__).parent / "fixtures" / "mini_model.json"
INVOCATION = "kitchen helper"


@pytest.fixture(scope="module")
def model() -> InteractionModel:
    return InteractionModel.load(FIXTURE, threshold=FUZZY_THRESHOLD)


def fixture_data() -> dict:
    return json.loads(FIXTURE.read_text())


def er(slot: dict) -> dict:
    return slot["resolutions"]["resolutionsPerAuthority"][0]


# ------------------------------------------------------------------ normalisation
@pytest.mark.parametrize("a, b", [
    ("what's the time", "what is the time"),
    ("What\u2019s the time?", "what is the time"),
    ("don't stop", "do not stop"),
    ("can't", "cannot"),
    ("can't", "can not"),
    ("I'm hungry", "i am hungry"),
    ("it's late", "it is late"),
    ("doesn't work", "does not work"),
    ("won't go", "will not go"),
    ("they're here", "they are here"),
    ("we've won", "we have won"),
    ("you'll see", "you will see"),
    ("whats up", "what is up"),
    ("dont go", "do not go"),
    ("let's cook", "let us cook"),
])
def test_contractions_equal_expansions(a: str, b: str) -> None:
    assert normalize(a) == normalize(b)


@pytest.mark.parametrize("words, digits", [
    ("zero", "0"), ("four", "4"), ("thirteen", "13"), ("twenty", "20"), ("twenty one", "21"),
    ("twenty-one", "21"), ("ninety nine", "99"), ("one hundred", "100"),
    ("one hundred and five", "105"), ("two thousand twenty four", "2024"),
])
def test_number_words_equal_digits(words: str, digits: str) -> None:
    assert normalize(f"set {words} minutes") == f"set {digits} minutes"


def test_every_number_0_to_100_round_trips() -> None:
    ones = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen " \
           "fifteen sixteen seventeen eighteen nineteen".split()
    tens = "twenty thirty forty fifty sixty seventy eighty ninety".split()
    spoken = ones + [t if u == 0 else f"{t} {ones[u]}" for t in tens for u in range(10)] + ["one hundred"]
    assert [normalize(w) for w in spoken] == [str(n) for n in range(101)]


def test_ordinals_and_separate_numbers() -> None:
    assert normalize("the fourth of july") == normalize("the 4th of July") == "the 4th of july"
    assert normalize("twenty first") == "21st"
    assert normalize("one two three") == "1 2 3"


def test_punctuation_case_and_spaces() -> None:
    assert normalize("  Hello,   WORLD!!  How's it going?? ") == "hello world how is it going"
    assert normalize("Mac & Cheese") == "mac and cheese"
    assert normalize("rock-and-roll") == "rock and roll"
    assert normalize("a.m.") == "am"


def test_tokens_keep_what_was_said() -> None:
    tokens = tokenize("What's twenty one?")
    assert tokens.canon == ("what", "is", "21")
    assert tokens.surface_text(2, 3) == "twenty one"
    assert tokens.surface_text(0, 2) == "what's"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*"abcdefghij '-.,?!0123456789", " one ", " twenty ", "what's ",
                                 " hundred ", " and ", "’s "]),
                max_size=30).map("".join))
def test_normalize_is_idempotent_and_spans_are_sane(text: str) -> None:
    tokens = tokenize(text)
    assert normalize(tokens.text) == tokens.text
    assert all(0 <= a < b <= len(tokens.surface) for a, b in tokens.spans)


# ------------------------------------------------------------------ exact matching
def test_exact_sample_without_slots(model: InteractionModel) -> None:
    r = model.resolve("What's today's tip?")
    assert (r.intent, r.kind, r.score) == ("TipIntent", "exact", 100.0)
    r = model.resolve("I dont know what to cook")
    assert (r.intent, r.kind) == ("TipIntent", "exact")


def test_slot_capture_with_entity_resolution_match(model: InteractionModel) -> None:
    r = model.resolve("How do I make Mac & Cheese?")
    assert (r.intent, r.kind) == ("RecipeIntent", "exact")
    dish = r.slots["dish"]
    assert dish["value"] == "mac and cheese"
    assert dish["confirmationStatus"] == "NONE" and dish["source"] == "USER"
    block = er(dish)
    assert block == {
        "authority": "amzn1.er-authority.echo-sdk.simulator.DISH",
        "status": {"code": "ER_SUCCESS_MATCH"},
        "values": [{"value": {"name": "macaroni and cheese", "id": "MAC_CHEESE"}}],
    }


def test_synonym_and_number_word_values_resolve(model: InteractionModel) -> None:
    assert er(model.resolve("flapjacks recipe").slots["dish"])["values"][0]["value"]["id"] == "PANCAKES"
    slot = model.resolve("give me a recipe for 7 layer dip").slots["dish"]
    assert slot["value"] == "7 layer dip"
    assert er(slot)["values"][0]["value"] == {"name": "seven layer dip", "id": "SEVEN_LAYER_DIP"}


def test_entity_resolution_no_match(model: InteractionModel) -> None:
    r = model.resolve("how do i make lasagna")
    assert r.intent == "RecipeIntent" and r.slots["dish"]["value"] == "lasagna"
    assert er(r.slots["dish"]) == {"authority": "amzn1.er-authority.echo-sdk.simulator.DISH",
                                   "status": {"code": "ER_SUCCESS_NO_MATCH"}}
    assert "values" not in er(r.slots["dish"])


def test_authority_uses_skill_id(model: InteractionModel) -> None:
    r = model.resolve("tiramisu recipe", skill_id="amzn1.ask.skill.abc")
    assert er(r.slots["dish"])["authority"] == "amzn1.er-authority.echo-sdk.amzn1.ask.skill.abc.DISH"


def test_builtin_slot_types_carry_raw_value(model: InteractionModel) -> None:
    r = model.resolve("set a timer for twenty five minutes")
    assert r.intent == "TimerIntent"
    assert r.slots["minutes"] == {"name": "minutes", "value": "25", "confirmationStatus": "NONE", "source": "USER"}
    r = model.resolve("search for cheap flights to Rome")
    assert r.slots["query"] == {"name": "query", "value": "cheap flights to rome",
                                "confirmationStatus": "NONE", "source": "USER"}


def test_two_slots_and_unfilled_slots(model: InteractionModel) -> None:
    r = model.resolve("how many teaspoons are in a tablespoon")
    assert r.intent == "ConvertIntent"
    assert [er(r.slots[s])["values"][0]["value"]["id"] for s in ("small_unit", "big_unit")] == ["TSP", "TBSP"]
    assert model.resolve("help").slots == {}
    assert model.empty_slots("RecipeIntent") == {"dish": {"name": "dish", "confirmationStatus": "NONE"}}


def test_prefers_match_with_most_literal_words() -> None:
    data = {"interactionModel": {"languageModel": {"invocationName": "test skill", "intents": [
        {"name": "Anything", "slots": [{"name": "q", "type": "AMAZON.SearchQuery"}], "samples": ["{q} please"]},
        {"name": "Weather", "slots": [{"name": "city", "type": "AMAZON.City"}],
         "samples": ["weather in {city} please"]},
    ], "types": []}}}
    r = InteractionModel(data).resolve("weather in paris please")
    assert r.intent == "Weather" and r.slots["city"]["value"] == "paris"


def test_several_slotted_candidates_with_unresolved_values() -> None:
    data = {"interactionModel": {"languageModel": {"invocationName": "test skill", "intents": [
        {"name": "Define", "slots": [{"name": "term", "type": "TERM"}],
         "samples": ["what is {term}", "what is a {term}"]},
        {"name": "Use", "slots": [{"name": "thing", "type": "TERM"}], "samples": ["what is {thing} for"]},
    ], "types": [{"name": "TERM", "values": [{"id": "PSA", "name": {"value": "psa"}}]}]}}}
    model = InteractionModel(data)
    r = model.resolve("what is salt for")
    assert r.intent == "Use" and r.slots["thing"]["value"] == "salt"
    r = model.resolve("what is a psa")
    assert r.intent == "Define" and er(r.slots["term"])["status"]["code"] == "ER_SUCCESS_MATCH"
    assert model.resolve("what is a nomogram").slots["term"]["value"] == "nomogram"


def test_of_two_values_the_slot_takes_the_one_said_where_samples_put_it() -> None:
    """ "my oncologist put me on denosumab what does it do" asks about denosumab, not the oncologist."""
    values = [{"id": v.upper(), "name": {"value": v}} for v in ("oncologist", "denosumab", "zometa")]
    data = {"interactionModel": {"languageModel": {"invocationName": "test skill", "intents": [
        {"name": "Define", "slots": [{"name": "term", "type": "TERM"}],
         "samples": ["what does {term} do", "they put me on {term} what does it do", "i am on {term} what is it",
                     "{term} what does it do"]},
        {"name": "AMAZON.FallbackIntent", "samples": []},
    ], "types": [{"name": "TERM", "values": values}]}}}
    model = InteractionModel(data)
    for said in ("my oncologist put me on denosumab what does it do please",
                 "my oncologist has me on denosumab now what does it do"):
        r = model.resolve(said)
        assert r.intent == "Define" and er(r.slots["term"])["values"][0]["value"]["id"] == "DENOSUMAB", said
    r = model.resolve("they put me on zometa what does it do my oncologist")   # not simply the last one
    assert er(r.slots["term"])["values"][0]["value"]["id"] == "ZOMETA"


def test_a_two_value_sample_needs_two_values_joined_as_it_joins_them() -> None:
    """ "how does zometa help with bone metastases" is no "how do {a} and {b} help"."""
    values = [{"id": v.upper().replace(" ", "_"), "name": {"value": v}}
              for v in ("zometa", "denosumab", "bone metastases")]
    data = {"interactionModel": {"languageModel": {"invocationName": "test skill", "intents": [
        {"name": "Both", "slots": [{"name": "a", "type": "TERM"}, {"name": "b", "type": "TERM"}],
         "samples": ["how do {a} and {b} help", "tell me about {a} and {b}"]},
        {"name": "Zometa", "samples": ["what is zometa for", "zometa dose"]},
        {"name": "AMAZON.FallbackIntent", "samples": []},
    ], "types": [{"name": "TERM", "values": values}]}}}
    model = InteractionModel(data)
    assert model.resolve("how does zometa help with bone metastases").intent != "Both"
    r = model.resolve("how do zometa and denosumab both help")
    assert r.intent == "Both" and [r.slots[s]["value"] for s in "ab"] == ["zometa", "denosumab"]
    assert model.resolve("how do they help").intent != "Both"


def test_a_long_story_is_understood_by_the_question_it_ends_with(model: InteractionModel) -> None:
    story = ("my wife asked what we should do on saturday and where we should go and who should come along "
             "and which car to take and honestly how do you make pancakes")
    assert model.resolve(story).intent == "RecipeIntent"


def test_filler_words_do_not_block_exact_match(model: InteractionModel) -> None:
    assert model.resolve("could you search for cheap flights").slots["query"]["value"] == "cheap flights"
    r = model.resolve("how many cups in a tablespoon please")
    assert r.kind == "exact" and r.slots["big_unit"]["value"] == "tablespoon"
    assert model.resolve("um, give me a tip, thanks").intent == "TipIntent"


# ------------------------------------------------------------------ fuzzy and fallback
@pytest.mark.parametrize("utterance, intent", [
    ("how do you make pancakes", "RecipeIntent"),
    ("i need a recipe for hotcakes", "RecipeIntent"),
    ("give me a recipe", "RecipeIntent"),
    ("give me a cooking tip", "TipIntent"),
    ("set timer for 10 minutes", "TimerIntent"),
    ("sure thing", "AMAZON.YesIntent"),
])
def test_fuzzy_match(model: InteractionModel, utterance: str, intent: str) -> None:
    r = model.resolve(utterance)
    assert (r.intent, r.kind) == (intent, "fuzzy")
    assert FUZZY_THRESHOLD <= r.score < 100


def test_fuzzy_match_recovers_slots(model: InteractionModel) -> None:
    r = model.resolve("how do you make mac n cheese")
    assert er(r.slots["dish"])["values"][0]["value"]["id"] == "MAC_CHEESE"
    assert model.resolve("set timer for ten minutes").slots["minutes"]["value"] == "10"
    r = model.resolve("how many cups are there in a tablespoon")
    assert (r.kind, r.slots["small_unit"]["value"], r.slots["big_unit"]["value"]) == ("fuzzy", "cups", "tablespoon")


@pytest.mark.parametrize("utterance", [
    "what's the capital of france", "tell me a joke", "what is the weather", "pause", "",
])
def test_out_of_domain_goes_to_fallback(model: InteractionModel, utterance: str) -> None:
    r = model.resolve(utterance)
    assert (r.intent, r.kind) == ("AMAZON.FallbackIntent", "fallback")
    assert r.score < FUZZY_THRESHOLD


def test_no_fallback_declared_gives_no_match() -> None:
    data = fixture_data()
    intents = data["interactionModel"]["languageModel"]["intents"]
    data["interactionModel"]["languageModel"]["intents"] = [i for i in intents if i["name"] != "AMAZON.FallbackIntent"]
    r = InteractionModel(data).resolve("what's the capital of france")
    assert (r.intent, r.kind, r.slots) == (None, "none", {})


def test_rank_returns_every_intent_best_first(model: InteractionModel) -> None:
    ranked = model.rank("how do you make pancakes")
    assert ranked[0].intent == "RecipeIntent" and ranked[0].sample == "how do i make {dish}"
    scores = [c.score for c in ranked]
    assert scores == sorted(scores, reverse=True)
    assert len({c.intent for c in ranked}) == len(ranked)
    assert len(model.rank("how do you make pancakes", limit=2)) == 2


def test_threshold_is_configurable() -> None:
    strict = InteractionModel.load(FIXTURE, threshold=99.0)
    assert strict.resolve("give me a cooking tip").intent == "AMAZON.FallbackIntent"
    lenient = InteractionModel.load(FIXTURE, threshold=10.0)
    assert lenient.resolve("tell me a joke").kind == "fuzzy"


# ------------------------------------------------------------------ built-ins
DECLARED = {i["name"] for i in fixture_data()["interactionModel"]["languageModel"]["intents"]}
BUILTIN_CASES = [(intent, phrase) for intent, phrases in BUILTIN_PHRASES.items() for phrase in phrases]


@pytest.mark.parametrize("intent, phrase", BUILTIN_CASES)
def test_every_builtin_phrase(model: InteractionModel, intent: str, phrase: str) -> None:
    r = model.resolve(phrase)
    if intent in DECLARED:
        assert (r.intent, r.kind) == (intent, "builtin")
    else:
        assert r.intent != intent


def test_model_samples_beat_builtin_phrases() -> None:
    data = fixture_data()
    data["interactionModel"]["languageModel"]["intents"].append({"name": "MenuIntent", "samples": ["next"]})
    assert InteractionModel(data).resolve("next").intent == "MenuIntent"


# ------------------------------------------------------------------ invocation forms
@pytest.mark.parametrize("text", [
    "open kitchen helper", "start kitchen helper", "launch kitchen helper", "talk to kitchen helper",
    "ask kitchen helper", "tell kitchen helper", "Alexa, open Kitchen Helper!",
])
def test_launch_forms(text: str) -> None:
    assert parse_invocation(text, INVOCATION) == Invocation("launch", "")


@pytest.mark.parametrize("text, rest", [
    ("ask kitchen helper how do i make pancakes", "how do i make pancakes"),
    ("ask kitchen helper to set a timer for five minutes", "set a timer for five minutes"),
    ("tell kitchen helper give me a tip", "give me a tip"),
    ("tell kitchen helper to give me a tip", "give me a tip"),
    ("ask kitchen helper about tiramisu", "tiramisu"),
    ("open kitchen helper and give me a tip", "give me a tip"),
    ("Alexa, ask Kitchen Helper what's today's tip?", "what's today's tip"),
    ("give me a tip using kitchen helper", "give me a tip"),
])
def test_one_shot_forms(text: str, rest: str) -> None:
    invocation = parse_invocation(text, INVOCATION)
    assert (invocation.kind, invocation.rest) == ("oneshot", rest)


def test_one_shot_keeps_the_connective_reading() -> None:
    invocation = parse_invocation("ask kitchen helper for a recipe for tiramisu", INVOCATION)
    assert invocation.rests == ("a recipe for tiramisu", "for a recipe for tiramisu")


@pytest.mark.parametrize("text", ["exit", "quit", "Exit.", "alexa quit"])
def test_exit_forms(text: str) -> None:
    assert parse_invocation(text, INVOCATION) == Invocation("exit", "")


@pytest.mark.parametrize("text", ["open the fridge", "ask me anything", "give me a tip", "exit the kitchen"])
def test_not_an_invocation(text: str) -> None:
    assert parse_invocation(text, INVOCATION).kind == "utterance"


# ------------------------------------------------------------------ dialogs, model errors, speed
def test_elicitation_answers(model: InteractionModel) -> None:
    r = model.resolve_elicitation("RecipeIntent", "dish", "hotcakes")
    assert r.intent == "RecipeIntent" and er(r.slots["dish"])["values"][0]["value"]["id"] == "PANCAKES"
    assert model.resolve_elicitation("RecipeIntent", "dish", "stop").intent == "AMAZON.StopIntent"
    assert model.resolve_elicitation("RecipeIntent", "dish", "lasagna").slots["dish"]["value"] == "lasagna"
    assert model.resolve_elicitation("TimerIntent", "minutes", "ten").slots["minutes"]["value"] == "10"
    assert model.resolve_elicitation("TimerIntent", "minutes", "i want to cook tiramisu").intent == "RecipeIntent"


def test_undeclared_slot_in_sample_is_a_model_error() -> None:
    data = {"interactionModel": {"languageModel": {"invocationName": "x y", "intents": [
        {"name": "A", "samples": ["play {song}"]}]}}}
    with pytest.raises(ModelError, match="undeclared slot"):
        InteractionModel(data)


def test_duplicate_samples_are_reported() -> None:
    data = fixture_data()
    data["interactionModel"]["languageModel"]["intents"].append({"name": "Dup", "samples": ["give me a tip"]})
    assert any("give me a tip" in w for w in InteractionModel(data).warnings)


# ------------------------------------------------------------------ long stories, read whole
STORY_MODEL = {"interactionModel": {"languageModel": {"invocationName": "test skill", "intents": [
    {"name": "Emergency", "samples": ["my legs went numb", "i can't feel my legs", "my legs are numb and weak",
                                      "numb down there", "i wet myself without noticing"]},
    {"name": "Stretches", "samples": ["what stretches help a sore back", "which stretches are good for my back",
                                      "show me back stretches"]},
    {"name": "AMAZON.FallbackIntent", "samples": ["what's the weather", "play some music", "tell me a joke",
                                                  "how did the game go last night", "book a table for two"]},
], "types": []}}}


def test_a_long_story_no_sample_resembles_is_read_whole_by_its_words() -> None:
    """A red flag told inside a long story that ends in another question reaches its intent."""
    story = ("so i was gardening all weekend and my back has been sore since then and this morning "
             "my legs went numb and weak and i can't feel them properly anyway what do you think")
    r = InteractionModel(STORY_MODEL).resolve(story)
    assert (r.intent, r.kind) == ("Emergency", "statistical")


def test_a_long_story_of_other_things_still_falls_back() -> None:
    story = ("we went to the game last night and the weather was awful and after that we tried to book "
             "a table for two but the place was full so what should we do tonight")
    r = InteractionModel(STORY_MODEL).resolve(story)
    assert r.intent == "AMAZON.FallbackIntent" and r.kind == "fallback"


def test_a_short_line_is_never_read_whole() -> None:
    """Below STORY_READ_WORDS the samples alone decide: a near miss stays with them."""
    r = InteractionModel(STORY_MODEL, threshold=FUZZY_THRESHOLD).resolve("my legs are tired after the game")
    assert r.kind != "statistical"


@pytest.mark.parametrize("said, corrected", [
    ("not the bone scan the psa one", "not the bone scan"),
    ("nah not denosumab how is it given", "not denosumab"),
    ("not what it is but can it be cured", "not what it is"),
    ("not the causes i mean how is it treated", "not the causes i mean"),
    ("not able to feel my legs", ""),           # no correction: nothing resumes
    ("i am not sure what causes it", ""),       # "not" is not leading
])
def test_a_leading_correction_is_found_and_a_plain_not_is_not(said: str, corrected: str) -> None:
    canon = tokenize(said).canon
    assert " ".join(canon[i] for i in contrasted(canon)) == corrected


@pytest.mark.parametrize("locale", ["en-US", "en-CA", "en-GB", "en-AU", "en-IN"])
def test_a_red_flag_said_with_not_able_is_no_plain_back_pain(locale: str) -> None:
    """'my back hurts' matches a sample exactly; the numb legs before it must still win, end to end."""
    from tools.understanding import safety_grade, safety_heard, simulator_nlu
    heard = safety_heard(simulator_nlu, locale, "i am not able to feel my legs and my back hurts")
    assert safety_grade(locale, heard) == "emergency"
