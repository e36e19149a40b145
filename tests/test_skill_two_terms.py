"""Two terms in one question, and questions the article does not answer: full envelopes, real replies.

Comparisons speak of each term in one sentence from the article and add what
the article itself says relating them; where it says nothing that compares
them, the reply says so and offers each by name. Two things asked at once get
the first answered, the second's gist, and the second offered by name.
"""
from __future__ import annotations

import re

import pytest

from skill.content import CONTENT
from skill.replies import spoken_name
from testkit import envelopes as E
from tests.conftest import ends, reprompt, speech

TWO = CONTENT.two_terms
FIRST, SECOND = TWO.slots
TERM = CONTENT.term_by_id
DOCTOR_LINES = [line for lines in CONTENT.prompts["doctor_lines"].values() for line in lines]


def term_slot(name: str, term_id: str) -> dict:
    term = TERM[term_id]
    return E.slot(name, term.name, er_id=term.id, er_name=term.name)


def ask(send, intent: str, dialog: E.Dialog | None = None, **terms: str) -> dict:
    dialog = dialog or E.Dialog(send)
    return dialog.intent(intent, **{name: term_slot(name, term_id) for name, term_id in terms.items()})


def gist(term_id: str) -> str:
    return TERM[term_id].gist.say


def sentences(text: str) -> int:
    return len(re.findall(r"[.?!](\s|$)", text))


def test_a_comparison_the_article_supports_gives_each_term_and_the_articles_own_link(send):
    said = speech(ask(send, TWO.compare_intent, first="DENOSUMAB", second="ZOMETA"))
    note = TWO.note("DENOSUMAB", "ZOMETA")
    assert note is not None
    answer = f"{gist('DENOSUMAB')} {gist('ZOMETA')} {note.line.say}"
    assert said.startswith(answer) and sentences(answer) == 3
    assert any(line in said for line in CONTENT.doctor_lines(CONTENT.topic_by_id["denosumab"].doctor))
    assert said.endswith(f"Would you like to hear about {CONTENT.topic_by_id['bisphosphonates'].label}?")
    # The note holds either way round.
    assert note.line.say in speech(ask(send, TWO.compare_intent, first="ZOMETA", second="DENOSUMAB"))


def test_a_comparison_the_article_does_not_make_says_so_and_offers_each(send):
    response = ask(send, TWO.compare_intent, first="RADIATION_THERAPY", second="RADIOPHARMACEUTICAL")
    assert TWO.note("RADIATION_THERAPY", "RADIOPHARMACEUTICAL") is None
    said = speech(response)
    assert said.startswith(f"{gist('RADIATION_THERAPY')} {gist('RADIOPHARMACEUTICAL')}")
    names = {"first": "radiation therapy", "second": "radiopharmaceutical"}
    assert CONTENT.prompts["compare_none"].format(**names) in said
    assert reprompt(response) == CONTENT.prompts["compare_none_reprompt"].format(**names)
    assert not ends(response)
    # "Yes" has nothing single to accept; naming one of them is a glossary question.
    assert response["sessionAttributes"].get("offer") is None


def test_is_that_the_same_as_compares_with_the_topic_the_listener_is_on(send):
    dialog = E.Dialog(send)
    dialog.intent("DenosumabIntent")
    said = speech(ask(send, TWO.compare_intent, dialog, second="ZOMETA"))
    assert said.startswith(f"{gist('DENOSUMAB')} {gist('ZOMETA')}")


def test_a_comparison_with_one_term_and_no_topic_defines_that_term(send):
    said = speech(ask(send, TWO.compare_intent, second="ZOMETA"))
    assert said.startswith(TERM["ZOMETA"].answer)


def test_the_same_term_twice_is_one_definition(send):
    said = speech(ask(send, TWO.compare_intent, first="PSA", second="PSA"))
    assert said.startswith(TERM["PSA"].answer)


def test_two_things_at_once_answers_the_first_and_offers_the_second_by_name(send):
    dialog = E.Dialog(send)
    said = speech(ask(send, TWO.both_intent, dialog, first="RADIATION_THERAPY", second="RADIOPHARMACEUTICAL"))
    assert said.startswith(f"{TERM['RADIATION_THERAPY'].answer} {gist('RADIOPHARMACEUTICAL')}")
    second = CONTENT.topic_by_id["radiopharmaceuticals"]
    assert said.endswith(f"Would you like to hear about {second.label}?")
    assert speech(dialog.intent("AMAZON.YesIntent")).startswith(second.answer)


@pytest.mark.parametrize("intent", [TWO.compare_intent, TWO.both_intent])
def test_unknown_terms_get_the_unknown_term_reply_with_the_safety_net(send, intent):
    said = speech(E.Dialog(send).intent(intent, **{FIRST: E.slot(FIRST, "flarbogen", no_match=True),
                                                   SECOND: E.slot(SECOND, "wibble", no_match=True)}))
    assert said.startswith(CONTENT.prompts["unknown_term"].split("{")[0].strip())
    assert "nine one one" in said


@pytest.mark.parametrize("locale", ["en-US", "en-GB", "en-AU"])
def test_a_question_the_article_does_not_answer_says_so_and_ends_with_the_safety_net(send, locale):
    response = E.Dialog(send, locale=locale).intent(CONTENT.not_covered_intent)
    said = speech(response)
    assert said.startswith(CONTENT.prompts["not_covered"].split("{")[0].strip())
    assert CONTENT.locale(locale).emergency_spoken in said.rsplit(".", 2)[-2]
    assert not ends(response) and not any(line in said for line in DOCTOR_LINES)


def test_term_names_inside_a_sentence_keep_acronyms():
    assert spoken_name(TERM["RADIATION_THERAPY"]) == "radiation therapy"
    assert spoken_name(TERM["PSA"]) == "PSA" and spoken_name(TERM["CT_SCAN"]) == "CT scan"
