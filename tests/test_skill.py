"""The skill end to end: full request envelopes in, response JSON out.

Tests send through the Lambda entry (``send``). The webhook runs the same
``skill.skill.invoke``; a parity set shows it answers byte for byte alike
(``test_the_webhook_answers_exactly_as_lambda_does``) and that its error and
logging paths hold too (``each_entry``).
"""
from __future__ import annotations

import re

import pytest

import lambda_handler

from skill.content import CONTENT, ends_with_doctor
from skill.speech import MAX_SPEECH_CHARS, plain_text
from testkit import envelopes as E
from tests.conftest import card, ends, parse_ssml, reprompt, speech, ssml, via_lambda, via_webhook

DOCTOR_LINES = [line for lines in CONTENT.prompts["doctor_lines"].values() for line in lines]
SOURCE = CONTENT.source


def lines_of(text: str):
    """The sentence records behind an answer text (topic answer or more, or a term)."""
    for item in (*CONTENT.topics, *CONTENT.terms):
        for lines in (item.answer_lines, getattr(item, "more_lines", ())):
            if " ".join(line.say for line in lines) == text:
                return lines
    raise AssertionError(f"no content has the text {text!r}")


def category_of(text: str) -> str:
    for topic in CONTENT.topics:
        if text in (topic.answer, topic.more):
            return topic.doctor
    term = next(t for t in CONTENT.terms if t.answer == text)
    return CONTENT.topic_by_id[term.topic].doctor


def offer_for(topic_id: str, *, more: bool = False, again: bool = False) -> str:
    label = CONTENT.topic_by_id[topic_id].label
    if again:
        return f"Would you still like to hear about {label}?"
    return f"Would you like to hear {'more ' if more else ''}about {label}?"


def assert_answer(response, text: str, offered: str, *, more: bool = False, again: bool = False) -> None:
    """An answer: the text, a doctor line that fits (unless the text already ends
    with one), an offer (of the topic's longer answer when ``more``; in other
    words when ``again``, the same topic having just been offered), a reprompt and a sourced card."""
    said = speech(response)
    assert said.startswith(text)
    after = said[len(text):]
    fitting = CONTENT.doctor_lines(category_of(text))
    if ends_with_doctor(lines_of(text)):
        assert not any(line in after for line in DOCTOR_LINES), said
    else:
        assert any(line in after for line in fitting), said
        assert '<break time="400ms"/>' in ssml(response)
    assert said.endswith(offer_for(offered, more=more, again=again))
    assert reprompt(response) == offer_for(offered, more=more, again=again)
    assert not ends(response)
    shown = card(response)
    assert shown["type"] == "Simple"
    assert text in shown["content"]
    assert SOURCE["author"] in shown["content"] and "2023" in shown["content"]
    parse_ssml(ssml(response))


# --- launch and topics ----------------------------------------------------

def test_launch_welcomes_disclaims_and_asks(send):
    response = E.Dialog(send).launch()
    said = speech(response)
    assert said.startswith("Welcome to Back Pain Guide")
    assert "not a doctor" in said and "medical advice" in said
    assert said.endswith("?") and not ends(response)
    assert "why does my back hurt" in said and "PSA test" in reprompt(response)
    assert card(response) is None


@pytest.mark.parametrize("topic", CONTENT.topics, ids=lambda t: t.intent)
def test_every_topic_is_answered(send, topic):
    response = E.Dialog(send).intent(topic.intent)
    assert_answer(response, topic.answer, topic.next)
    assert card(response)["title"] == topic.title


@pytest.mark.parametrize("intent, must_mention", [
    ("PsaTestIntent", ["prostate-specific antigen", "blood test", "protein"]),
    ("WhereItSpreadsIntent", ["lymph nodes", "ribs", "pelvic bones", "spine"]),
    ("HowCommonIntent", ["half"]),
    ("HighPsaCausesIntent", ["enlarged prostate", "prostatitis"]),
    ("BisphosphonatesIntent", ["Zometa", "commonly prescribe"]),
    ("DenosumabIntent", ["under the skin", "every four weeks", "zoledronic acid"]),
    ("ImagingTestsIntent", ["x-rays", "CT", "MRI", "beyond the prostate"]),
    ("CureIntent", ["there is no cure", "help control"]),
    ("SourceIntent", ["David Samadi", "2023"]),
])
def test_answers_carry_the_articles_facts(send, intent, must_mention):
    said = speech(E.Dialog(send).intent(intent))
    for fact in must_mention:
        assert fact in said


def test_acronyms_are_spelled_out(send):
    out = ssml(E.Dialog(send).intent("PsaTestIntent"))
    assert '<say-as interpret-as="characters">PSA</say-as>' in out
    out = ssml(E.Dialog(send).intent("ImagingTestsIntent"))
    assert '<say-as interpret-as="characters">CT</say-as>' in out


def test_doctor_line_varies_across_answers(send):
    lines = set()
    for topic in CONTENT.topics:
        said = speech(E.Dialog(send).intent(topic.intent))
        lines |= {line for line in DOCTOR_LINES if line in said}
    assert len(lines) >= 8


# --- glossary ---------------------------------------------------------------

@pytest.mark.parametrize("term", CONTENT.terms, ids=lambda t: t.id)
def test_every_glossary_term_by_entity_resolution(send, term):
    response = E.Dialog(send).intent(
        "GlossaryIntent", term=E.slot("term", term.synonyms[0], er_id=term.id, er_name=term.name))
    assert_answer(response, term.answer, term.topic, more=term.offers_more)
    assert card(response)["title"] == term.title


@pytest.mark.parametrize("spoken, term_id", [
    ("P.S.A.", "PSA"), ("Zometa", "ZOMETA"), ("radiotherapy", "RADIATION_THERAPY"),
    ("tumour", "TUMOR"), ("cat scan", "CT_SCAN"), ("Bone Mets", "BONE_METASTASIS"),
])
def test_glossary_without_resolution_matches_the_words(send, spoken, term_id):
    response = E.Dialog(send).intent("GlossaryIntent", term=E.slot("term", spoken))
    assert speech(response).startswith(CONTENT.term_by_id[term_id].answer)


@pytest.mark.parametrize("term_slot", [
    E.slot("term", "chiropractor", no_match=True),
    E.slot("term"),
    E.slot("term", "<speak>&amp; \"quoted\" ünïcode", no_match=True),
], ids=["no-match", "empty", "hostile"])
def test_unknown_glossary_term_asks_again(send, term_slot):
    response = E.Dialog(send).intent("GlossaryIntent", term=term_slot)
    assert speech(response).startswith("I don't have that word")
    assert not ends(response) and reprompt(response)
    parse_ssml(ssml(response))


def test_glossary_without_slots_at_all(send):
    response = E.Dialog(send).request(E.intent("GlossaryIntent", None))
    assert speech(response).startswith("I don't have that word")


# --- conversation -----------------------------------------------------------

def test_yes_plays_the_offered_topic(send):
    dialog = E.Dialog(send)
    first = CONTENT.topic_by_intent["WhereItSpreadsIntent"]
    dialog.intent(first.intent)
    response = dialog.intent("AMAZON.YesIntent")
    assert_answer(response, CONTENT.topic_by_id[first.next].answer, CONTENT.topic_by_id[first.next].next)


def test_yes_chain_walks_the_topics(send):
    dialog = E.Dialog(send)
    dialog.intent("BackPainCausesIntent")
    heard = [dialog.intent("AMAZON.YesIntent") for _ in range(3)]
    expected = ["cancer_warning_sign", "where_it_spreads", "how_common"]
    for response, topic_id in zip(heard, expected, strict=True):
        assert speech(response).startswith(CONTENT.topic_by_id[topic_id].answer)


def test_no_after_offer_asks_what_else(send):
    dialog = E.Dialog(send)
    dialog.intent("DenosumabIntent")
    response = dialog.intent("AMAZON.NoIntent")
    said = speech(response)
    assert said.startswith("All right.") and any(q in said for q in CONTENT.prompts["questions"])
    assert not ends(response)
    # and "yes" no longer plays the declined offer
    assert speech(dialog.intent("AMAZON.YesIntent")).startswith("Sure. What would you like")


def test_yes_without_offer_asks(send):
    dialog = E.Dialog(send)
    dialog.launch()
    response = dialog.intent("AMAZON.YesIntent")
    assert speech(response).startswith("Sure. What would you like to hear about?")
    assert not ends(response)


def test_tell_me_more_gives_the_longer_answer(send):
    dialog = E.Dialog(send)
    topic = CONTENT.topic_by_intent["RadiationTherapyIntent"]
    dialog.intent(topic.intent)
    response = dialog.intent("TellMeMoreIntent")
    # The topic just offered (topic.next) is offered again, in other words.
    assert_answer(response, topic.more, topic.next, again=True)
    assert not set(sentences_of(topic.answer)) & set(sentences_of(speech(response)))


def sentences_of(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+", text) if s]


NO_MORE = re.compile(r"(no more|everything).*\barticle\b|\barticle\b.*(no more|everything)", re.I)


@pytest.mark.parametrize("topic", CONTENT.topics, ids=lambda t: t.id)
def test_tell_me_more_never_replays_a_turn(send, topic):
    """Medical review M6: after the longer answer there is no more; the next topic is offered."""
    dialog = E.Dialog(send)
    dialog.intent(topic.intent)
    more = dialog.intent("TellMeMoreIntent")
    assert speech(more).startswith(topic.more)
    again = dialog.intent("TellMeMoreIntent")
    said = speech(again)
    assert NO_MORE.search(sentences_of(said)[0]), said
    assert not set(sentences_of(speech(more))) & set(sentences_of(said)), said
    assert topic.more_lines[0].say not in said and not ends(again)
    offered = next(t for t in CONTENT.topics if t.label in said)
    assert offered.id != topic.id and reprompt(again).endswith(f"{offered.label}?")
    third = dialog.intent("TellMeMoreIntent")                   # asked yet again: still no replay
    assert NO_MORE.search(speech(third)) and not set(sentences_of(said)) & set(sentences_of(speech(third)))
    yes = dialog.intent("AMAZON.YesIntent")                     # and "yes" takes the offer just made
    offered_last = next(t for t in CONTENT.topics if reprompt(third).endswith(f"{t.label}?"))
    assert speech(yes).startswith(offered_last.answer)


def test_yes_after_a_definition_that_offers_more_gives_the_longer_answer_once(send):
    term = CONTENT.term_by_id["DENOSUMAB"]
    assert term.offers_more
    topic = CONTENT.topic_by_id[term.topic]
    dialog = E.Dialog(send)
    defined = dialog.intent("GlossaryIntent", term=E.slot("term", "denosumab", er_id=term.id))
    assert speech(defined).endswith(offer_for(topic.id, more=True))
    assert speech(dialog.intent("AMAZON.YesIntent")).startswith(topic.more)
    assert NO_MORE.search(speech(dialog.intent("TellMeMoreIntent")))


def test_a_new_topic_has_more_to_tell_again(send):
    dialog = E.Dialog(send)
    dialog.intent("DenosumabIntent")
    dialog.intent("TellMeMoreIntent")
    dialog.intent("AMAZON.YesIntent")
    offered = CONTENT.topic_by_id[CONTENT.topic_by_id["denosumab"].next]
    assert speech(dialog.intent("TellMeMoreIntent")).startswith(offered.more)


def test_tell_me_more_after_a_glossary_term_explains_its_topic(send):
    dialog = E.Dialog(send)
    dialog.intent("GlossaryIntent", term=E.slot("term", "zometa", er_id="ZOMETA"))
    response = dialog.intent("TellMeMoreIntent")
    assert speech(response).startswith(CONTENT.topic_by_id["bisphosphonates"].more)


def test_tell_me_more_without_a_topic(send):
    response = E.Dialog(send).intent("TellMeMoreIntent")
    assert speech(response).startswith("Ask me a question first")
    assert not ends(response)


def test_repeat_repeats_the_last_answer_exactly(send):
    dialog = E.Dialog(send)
    answer = dialog.intent("EscapedCellsIntent")
    again = dialog.intent("AMAZON.RepeatIntent")
    assert ssml(again) == ssml(answer)
    assert again["response"]["reprompt"] == answer["response"]["reprompt"]
    # the offer survives the repeat
    yes = dialog.intent("AMAZON.YesIntent")
    assert speech(yes).startswith(CONTENT.topic_by_id["where_it_spreads"].answer)


def test_repeat_after_help_repeats_help(send):
    dialog = E.Dialog(send)
    helped = dialog.intent("AMAZON.HelpIntent")
    assert ssml(dialog.intent("AMAZON.RepeatIntent")) == ssml(helped)


def test_repeat_with_nothing_said(send):
    response = E.Dialog(send).intent("AMAZON.RepeatIntent")
    assert speech(response).startswith("There's nothing to repeat yet")


def test_say_that_slower_repeats_slowly_and_keeps_the_pace(send):
    dialog = E.Dialog(send)
    answer = dialog.intent("CureIntent")
    slower = dialog.intent("SlowerIntent")
    assert speech(slower) == speech(answer)
    assert ssml(slower).startswith('<speak><prosody rate="85%">')
    nxt = dialog.intent("AMAZON.YesIntent")
    assert ssml(nxt).startswith('<speak><prosody rate="85%">')
    assert nxt["response"]["reprompt"]["outputSpeech"]["ssml"].startswith('<speak><prosody rate="85%">')
    slowest = dialog.intent("SlowerIntent")
    assert ssml(slowest).startswith('<speak><prosody rate="70%">')
    assert ssml(dialog.intent("SlowerIntent")).startswith('<speak><prosody rate="70%">')  # floor
    normal = dialog.intent("NormalSpeedIntent")
    assert "prosody" not in ssml(normal)
    assert "prosody" not in ssml(dialog.intent("DenosumabIntent"))


def test_slower_before_anything_was_said(send):
    dialog = E.Dialog(send)
    response = dialog.intent("SlowerIntent")
    assert "speak more slowly" in speech(response)
    assert ssml(response).startswith('<speak><prosody rate="85%">')


def test_start_over_forgets_the_topic_but_keeps_the_pace(send):
    dialog = E.Dialog(send)
    dialog.intent("DenosumabIntent")
    dialog.intent("SlowerIntent")
    response = dialog.intent("AMAZON.StartOverIntent")
    assert "start over" in speech(response) and not ends(response)
    assert ssml(response).startswith('<speak><prosody rate="85%">')
    assert speech(dialog.intent("TellMeMoreIntent")).startswith("Ask me a question first")
    assert speech(dialog.intent("AMAZON.YesIntent")).startswith("Sure.")


def test_help_lists_what_to_ask(send):
    response = E.Dialog(send).intent("AMAZON.HelpIntent")
    said = speech(response)
    assert "what is denosumab" in said and "tell me more" in said and "say that slower" in said
    assert not ends(response) and reprompt(response) and card(response) is None


@pytest.mark.parametrize("name", ["AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.NavigateHomeIntent"])
def test_stop_cancel_home_say_goodbye_and_end(send, name):
    response = E.Dialog(send).intent(name)
    assert "see your doctor" in speech(response) and "Goodbye" in speech(response)
    assert ends(response) and "reprompt" not in response["response"]


@pytest.mark.parametrize("name", ["AMAZON.FallbackIntent", "MadeUpIntent", "AMAZON.PauseIntent"])
def test_fallback_and_unknown_intents_guide_the_listener(send, name):
    response = E.Dialog(send).intent(name)
    said = speech(response)
    assert said.startswith("Sorry, I can't help with that.")
    assert "what causes back pain?" in said
    assert not ends(response) and reprompt(response)


def test_session_ended_is_silent(send):
    response = E.Dialog(send).request(E.session_ended("EXCEEDED_MAX_REPROMPTS"))
    assert "outputSpeech" not in response["response"]
    assert "reprompt" not in response["response"]


@pytest.mark.parametrize("kind", ["AudioPlayer.PlaybackStarted", "Display.ElementSelected",
                                  "Connections.Response"])
def test_other_request_types_get_an_empty_answer(send, kind):
    request = {"type": kind, "requestId": "amzn1.echo-api.request.1", "timestamp": E.now_iso(),
               "locale": "en-US"}
    response = E.Dialog(send).request(request)
    assert "outputSpeech" not in response["response"]


def test_request_types_the_sdk_cannot_read_are_refused(dev_client, caplog):
    request = {"type": "Made.Up", "requestId": "amzn1.echo-api.request.1", "timestamp": E.now_iso()}
    with pytest.raises(lambda_handler.RequestFailed) as info:
        lambda_handler.handler(E.envelope(request), None)
    # Lambda logs an uncaught exception's message: ours names the type only and hides
    # the SDK's exception, whose message quotes the value it could not read.
    assert str(info.value) == "SerializationException" and info.value.__suppress_context__
    assert "discriminator" not in caplog.text
    assert re.search(r"request failed: SerializationException at (\S+/)?(serialize|skill)\.py:\d+", caplog.text)
    reply = dev_client.post("/alexa", json=E.envelope(request))
    assert reply.status_code == 400
    assert reply.get_json() == {"error": "malformed request envelope"}


# --- safety ---------------------------------------------------------------------

@pytest.mark.parametrize("locale, number, spoken", [
    ("en-US", "911", "nine one one"), ("en-CA", "911", "nine one one"),
    ("en-GB", "999", "nine nine nine"), ("en-AU", "000", "triple zero"),
    ("en-IN", "112", "one one two"), ("fr-FR", "911", "nine one one"),
])
def test_emergency_sends_them_to_emergency_services(send, locale, number, spoken):
    response = E.Dialog(send, locale=locale).intent("EmergencyIntent")
    said = speech(response)
    assert said.count(f"call {spoken} now") == 2 and "emergency" in said
    assert not ends(response) and spoken in reprompt(response)  # open, so "repeat" works
    assert card(response)["title"] == f"Call {number} now"
    assert number in card(response)["content"]


def test_emergency_mid_conversation_comes_first_and_drops_the_offer(send):
    dialog = E.Dialog(send)
    dialog.intent("BackPainCausesIntent")
    response = dialog.intent("EmergencyIntent")
    assert speech(response).startswith("This could be a medical emergency")
    # "yes" no longer plays the offer made before the emergency: it says the number again
    assert speech(dialog.intent("AMAZON.YesIntent")) == speech(response)


# --- name-free interaction ------------------------------------------------------

def can_fulfill(send, name, slots=None):
    response = send(E.envelope(E.can_fulfill(name, slots)))
    assert "outputSpeech" not in response["response"]
    return response["response"]["canFulfillIntent"]


@pytest.mark.parametrize("topic", CONTENT.topics[:3] + CONTENT.topics[-2:], ids=lambda t: t.intent)
def test_can_fulfill_topics(send, topic):
    assert can_fulfill(send, topic.intent) == {"canFulfill": "YES"}


def test_can_fulfill_known_term(send):
    verdict = can_fulfill(send, "GlossaryIntent", {"term": E.slot("term", "psa", er_id="PSA")})
    assert verdict == {"canFulfill": "YES", "slots": {"term": {"canUnderstand": "YES", "canFulfill": "YES"}}}


def test_can_fulfill_unknown_term_and_other_intents(send):
    verdict = can_fulfill(send, "GlossaryIntent", {"term": E.slot("term", "tax return", no_match=True)})
    assert verdict["canFulfill"] == "NO"
    assert verdict["slots"]["term"] == {"canUnderstand": "NO", "canFulfill": "NO"}
    for name in ("AMAZON.HelpIntent", "EmergencyIntent", "WeatherIntent"):
        assert can_fulfill(send, name) == {"canFulfill": "NO"}


# --- failure handling -------------------------------------------------------------

def test_handler_errors_get_an_apology_not_a_crash(each_entry, monkeypatch, caplog):
    from skill import replies

    def broken(topic, content=None):
        raise RuntimeError(f"boom {E.USER_ID}")
    monkeypatch.setattr(replies, "topic_answer", broken)
    response = E.Dialog(each_entry).intent("DenosumabIntent")
    assert speech(response).startswith("Sorry, something went wrong")
    assert not ends(response)
    assert "type=RuntimeError" in caplog.text
    assert E.USER_ID not in caplog.text


def test_wrong_skill_id_is_refused_by_lambda(monkeypatch):
    from skill.appid import WrongApplication
    monkeypatch.setattr(lambda_handler, "SKILL_IDS", frozenset({"amzn1.ask.skill.other", E.APP_ID}))
    assert lambda_handler.handler(E.envelope(E.launch()), None)["response"]["outputSpeech"]
    monkeypatch.setattr(lambda_handler, "SKILL_IDS", frozenset({"amzn1.ask.skill.other"}))
    with pytest.raises(WrongApplication):
        lambda_handler.handler(E.envelope(E.launch()), None)


def test_logs_carry_no_user_data(each_entry, caplog):
    caplog.set_level("DEBUG")
    dialog = E.Dialog(each_entry)
    dialog.launch()
    dialog.intent("GlossaryIntent", term=E.slot("term", "zometa secret-slot-value"))
    dialog.intent("DenosumabIntent")
    for secret in (E.USER_ID, E.DEVICE_ID, "TESTTOKENSECRET", "secret-slot-value", dialog.session_id):
        assert secret not in caplog.text
    assert "intent=GlossaryIntent" in caplog.text


# --- every response the skill can give ------------------------------------------

def every_response(send):
    """Walk every reply: each topic and its more, each term, every prompt, each locale, each pace."""
    for rate_steps in range(3):
        dialog = E.Dialog(send)
        dialog.launch()
        for _ in range(rate_steps):
            yield dialog.intent("SlowerIntent")
        for topic in CONTENT.topics:
            yield dialog.intent(topic.intent)
            yield dialog.intent("TellMeMoreIntent")
            yield dialog.intent("AMAZON.RepeatIntent")
        for term in CONTENT.terms:
            yield dialog.intent("GlossaryIntent", term=E.slot("term", term.name, er_id=term.id))
        for name in ("AMAZON.HelpIntent", "AMAZON.NoIntent", "AMAZON.YesIntent", "AMAZON.FallbackIntent",
                     "AMAZON.StartOverIntent", "NormalSpeedIntent", "AMAZON.StopIntent"):
            yield dialog.intent(name)
    for locale in E.LOCALES:
        yield E.Dialog(send, locale=locale).intent("EmergencyIntent")
        yield E.Dialog(send, locale=locale).launch()


def test_every_response_is_valid_short_and_never_diagnoses(send):
    count = 0
    for response in every_response(send):
        count += 1
        for key in ("outputSpeech", "reprompt"):
            block = response["response"].get(key)
            if block:
                text = (block.get("outputSpeech") or block)["ssml"]
                parse_ssml(text)
                assert len(text) <= MAX_SPEECH_CHARS
                assert not re.search(r"\byou (do not |don't )?have\b", plain_text_lower(text)), text
    assert count > 150


def test_the_webhook_answers_exactly_as_lambda_does(dev_client):
    """Parity: every reply above, sent through both entries, is the same JSON."""
    pairs = zip(every_response(via_lambda), every_response(via_webhook(dev_client)), strict=True)
    count = 0
    for through_lambda, through_webhook in pairs:
        assert through_webhook == through_lambda
        count += 1
    assert count > 150


def plain_text_lower(text: str) -> str:
    return plain_text(text).lower()


def test_intent_request_without_an_intent_gets_the_fallback(send):
    request = E.intent("X")
    del request["intent"]
    response = E.Dialog(send).request(request)
    assert speech(response).startswith("Sorry, I can't help with that.")


def test_serializer_speed_ups_still_hook_into_the_pinned_sdk(monkeypatch):
    """The overrides replace name-mangled SDK helpers: if an upgrade renames them, fail here, not silently."""
    from ask_sdk_core.serialize import DefaultSerializer

    from skill.skill import Serializer, parse_envelope

    called = set()
    for name in Serializer.OVERRIDDEN:
        assert callable(getattr(DefaultSerializer, name, None)), f"ask-sdk-core no longer defines {name}"
        override = getattr(Serializer, name)
        monkeypatch.setattr(Serializer, name,
                            lambda self, *args, _name=name, _f=override: called.add(_name) or _f(self, *args))
    parsed = parse_envelope(E.envelope(E.launch()))
    assert parsed.request.timestamp.tzinfo is not None
    assert called == set(Serializer.OVERRIDDEN)


def test_ssml_escaping_matches_html_escape_and_round_trips():
    """to_ssml escapes by hand (no html import on the cold path) exactly as html.escape(quote=False) would."""
    import html

    from skill.speech import plain_text, to_ssml
    text = 'Tom & Jerry <said> "PSA" > 4 & it\'s &amp; fine'
    ssml = to_ssml(text)
    assert ssml == html.escape(text, quote=False).replace(
        "PSA", '<say-as interpret-as="characters">PSA</say-as>')
    parse_ssml(f"<speak>{ssml}</speak>")
    assert plain_text(ssml) == text


def test_fast_envelope_parsing_builds_what_the_sdk_builds():
    """skill.skill's Serializer caches per-class work; the typed envelope must equal the SDK's own."""
    import json

    from ask_sdk_core.serialize import DefaultSerializer
    from ask_sdk_model import RequestEnvelope

    from skill.skill import _SERIALIZER, parse_envelope
    glossary = CONTENT.glossary_slot
    envelopes = [
        E.envelope(E.launch("en-GB")),
        E.envelope(E.intent("PsaTestIntent"), attributes={"topic": "psa", "rate": 1}),
        E.envelope(E.intent(CONTENT.glossary_intent, {glossary: E.slot(glossary, "zometa", er_id="zometa")})),
        E.envelope(E.intent(CONTENT.glossary_intent, {glossary: E.slot(glossary, "something odd")})),
        E.envelope(E.can_fulfill("PsaTestIntent")),
        E.envelope(E.session_ended("ERROR")),
    ]
    for envelope in envelopes:
        envelope["request"]["unknownField"] = {"kept": True}   # unknown keys are kept as they came
        ours = parse_envelope(envelope)
        sdk = DefaultSerializer().deserialize(json.dumps(envelope), RequestEnvelope)
        assert ours == sdk
        assert _SERIALIZER.serialize(ours) == DefaultSerializer().serialize(sdk)
        assert ours.request.unknownField == {"kept": True}
