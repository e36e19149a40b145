"""Follow-ups that point back ("how common is that?") and personal questions ("do I have cancer?").

Full envelopes in, response JSON out, through the Lambda entry and the
development webhook (the ``send`` fixture).
"""
from __future__ import annotations

import re

import pytest

from skill.content import CONTENT
from testkit import envelopes as E
from tests.conftest import card, ends, reprompt, speech
from tests.test_skill import assert_answer

GENERIC, HOW_COMMON, TREATMENT = "FollowUpIntent", "FollowUpHowCommonIntent", "FollowUpTreatmentIntent"


def follow_up_after(send, first: str, follow: str, **slots) -> dict:
    dialog = E.Dialog(send)
    dialog.intent(first, **slots)
    return dialog.intent(follow)


def test_every_follow_up_points_at_real_topics():
    assert {f.intent for f in CONTENT.follow_ups} == {GENERIC, HOW_COMMON, TREATMENT}
    for follow in CONTENT.follow_ups:
        for current, target in follow.topics.items():
            assert current in CONTENT.topic_by_id and target in CONTENT.topic_by_id and current != target


def test_a_pointing_question_gets_the_current_topics_longer_answer(send):
    topic = CONTENT.topic_by_intent["BisphosphonatesIntent"]
    response = follow_up_after(send, topic.intent, GENERIC)
    # The offer just heard (topic.next) is not made again: the one after it is.
    assert_answer(response, topic.more, CONTENT.topic_by_id[topic.next].next)


def test_after_a_glossary_term_the_follow_up_explains_its_topic(send):
    response = follow_up_after(send, "GlossaryIntent", GENERIC, term=E.slot("term", "zometa", er_id="ZOMETA"))
    assert speech(response).startswith(CONTENT.topic_by_id["bisphosphonates"].more)


@pytest.mark.parametrize("follow, first, answered_by", [
    (HOW_COMMON, "WhereItSpreadsIntent", "how_common"),
    (HOW_COMMON, "MetastaticCancerIntent", "how_common"),
    (TREATMENT, "WhereItSpreadsIntent", "bone_pain_treatment"),
    (TREATMENT, "MetastaticCancerIntent", "cure_and_goals"),
])
def test_a_specific_follow_up_is_answered_by_the_topic_that_covers_it(send, follow, first, answered_by):
    target = CONTENT.topic_by_id[answered_by]
    assert_answer(follow_up_after(send, first, follow), target.answer, target.next)


def test_a_specific_follow_up_the_topic_does_not_map_gets_the_longer_answer(send):
    topic = CONTENT.topic_by_intent["DenosumabIntent"]
    assert topic.id not in CONTENT.follow_up_by_intent[HOW_COMMON].topics
    assert_answer(follow_up_after(send, topic.intent, HOW_COMMON), topic.more, CONTENT.topic_by_id[topic.next].next)


@pytest.mark.parametrize("follow", [GENERIC, HOW_COMMON, TREATMENT])
def test_with_no_topic_it_asks_for_the_whole_question_rather_than_guess(send, follow):
    response = E.Dialog(send).intent(follow)
    assert speech(response) == CONTENT.prompts["follow_up_without_topic"]
    assert not ends(response) and reprompt(response) and card(response) is None
    dialog = E.Dialog(send)
    dialog.intent("WhereItSpreadsIntent")
    dialog.intent("AMAZON.StartOverIntent")
    assert speech(dialog.intent(follow)) == CONTENT.prompts["follow_up_without_topic"]


PERSONAL = CONTENT.personal_intent


def test_a_personal_question_gets_the_calm_doctor_reply(send):
    response = E.Dialog(send).intent(PERSONAL)
    said = speech(response)
    assert said == CONTENT.prompts["personal"]
    assert "can't" in said and "doctor" in said.lower()
    assert not re.search(r"\byou (do not |don't )?have\b", said.lower())
    assert not re.search(r"\b(not|isn't|is|probably|likely) cancer\b", said.lower())
    assert not ends(response) and reprompt(response) == CONTENT.prompts["personal_reprompt"]
    assert card(response) is None


def test_a_personal_question_keeps_the_conversation_where_it_was(send):
    dialog = E.Dialog(send)
    topic = CONTENT.topic_by_intent["PsaTestIntent"]
    dialog.intent(topic.intent)
    dialog.intent(PERSONAL)
    assert speech(dialog.intent("TellMeMoreIntent")).startswith(topic.more)


@pytest.mark.parametrize("name", [PERSONAL, GENERIC, HOW_COMMON])
def test_can_fulfill_declines_personal_and_follow_up_questions(send, name):
    response = send(E.envelope(E.can_fulfill(name)))
    assert response["response"]["canFulfillIntent"] == {"canFulfill": "NO"}
