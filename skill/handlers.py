"""ask-sdk request handlers: one class per kind of turn (every topic intent shares one).

Each handler decides *which* reply fits the turn (see ``replies``) and how the
session state moves; ``render`` does the SDK plumbing in one place. The SDK
calls ``can_handle``/``handle`` by keyword, so the parameter is always
``handler_input``.
"""
from __future__ import annotations

import logging
from typing import Any, ClassVar

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import IntentRequest, Response
from ask_sdk_model.canfulfill import (CanFulfillIntent, CanFulfillIntentValues, CanFulfillSlot,
                                      CanFulfillSlotValues, CanUnderstandSlotValues)
from ask_sdk_model.ui import SimpleCard

from . import reminders, replies
from .content import CONTENT, Term
from .logs import where
from .replies import Reply
from .speech import RATES, at_rate, clamp_rate, plain_text

log = logging.getLogger(__name__)

# Session attribute keys: all the conversation state there is.
TOPIC, OFFER, LAST, RATE = "topic", "offer", "last", "rate"
TOLD_MORE = "told_more"     # the topic's longer answer has been given: no more to tell
OFFER_MORE = "offer_more"   # "yes" to the offer gets the offered topic's longer answer
REMINDER = "reminder"   # "created" once this session has made its one reminder
SAFETY = "safety"       # the kind of the last safety reply (replies.SAFETY_KINDS) while it holds
# Turns that leave a safety reply in force: answering it, asking about the skill,
# not being understood. Each carries the short reminder; a real question carries
# it once and ends it (see docs/safety.md).
HOLDS_SAFETY = frozenset({"AMAZON.YesIntent", "AMAZON.NoIntent", "AMAZON.HelpIntent", "AMAZON.FallbackIntent",
                          "AMAZON.RepeatIntent", "SlowerIntent", "NormalSpeedIntent", "SafetyNumberIntent",
                          "ThanksIntent", "GreetingIntent"})


# --- plumbing -------------------------------------------------------------

def session_attributes(handler_input: HandlerInput) -> dict[str, Any]:
    """The session's attributes, or a throwaway dict for out-of-session requests."""
    if handler_input.request_envelope.session is None:
        return {}
    attrs = handler_input.attributes_manager.session_attributes
    return attrs if isinstance(attrs, dict) else {}


def safety_kind(attrs: dict[str, Any]) -> str | None:
    """The safety reply still in force, if the client sent back a known kind."""
    kind = attrs.get(SAFETY)
    return kind if kind in replies.SAFETY_KINDS else None


def carry_safety(handler_input: HandlerInput, reply: Reply) -> Reply:
    """After an emergency, urgent or crisis reply, the next turns still serve it.

    Any other reply is led by a short reminder with the number. Turns in
    ``HOLDS_SAFETY`` keep the safety reply in force; any other (a new question)
    carries the reminder this once and ends it. A new safety reply replaces it.
    """
    attrs = session_attributes(handler_input)
    kind = safety_kind(attrs)
    if reply.safety:
        attrs[SAFETY] = reply.safety
        return reply
    if kind is None:
        attrs.pop(SAFETY, None)
        return reply
    if intent_name(handler_input) not in HOLDS_SAFETY:
        attrs.pop(SAFETY, None)
    return replies.with_safety_reminder(reply, kind, request_locale(handler_input), previous_speech(handler_input))


def not_understood(handler_input: HandlerInput, key: str, reprompt_key: str) -> Reply:
    """A prompt for what the skill did not understand, closing with the safety net.

    After a safety reply the reminder that leads the turn already gives the
    number (``carry_safety``), so the net is left off rather than said twice.
    """
    previous = previous_speech(handler_input)
    if safety_kind(session_attributes(handler_input)):
        return replies.ask(key, reprompt_key, previous)
    return replies.ask_with_safety_net(key, reprompt_key, request_locale(handler_input), previous)


def render(handler_input: HandlerInput, reply: Reply, *, replay: bool = False) -> Response:
    """Build the SDK response for a reply and move the session state with it.

    ``replay`` (Repeat, "say that slower") speaks again without touching state.
    """
    attrs = session_attributes(handler_input)
    if not replay:
        reply = carry_safety(handler_input, reply)
    rate = clamp_rate(attrs.get(RATE))
    builder = handler_input.response_builder.speak(at_rate(reply.speech, rate))
    if reply.ends_session:
        builder.set_should_end_session(True)
    else:
        builder.ask(at_rate(reply.reprompt, rate))
    if reply.card:
        builder.set_card(SimpleCard(title=reply.card.title, content=reply.card.content))
    if not replay:
        attrs[OFFER] = reply.offer
        attrs[OFFER_MORE] = reply.offer_more
        if reply.topic:
            attrs[TOPIC] = reply.topic
            attrs[TOLD_MORE] = reply.told_more
        if not reply.ends_session:
            attrs[LAST] = {"speech": reply.speech, "reprompt": reply.reprompt}
    return builder.response


def last_reply(attrs: dict[str, Any]) -> Reply | None:
    """The last open-session reply, if the client sent back a sane one."""
    last = attrs.get(LAST)
    if isinstance(last, dict) and isinstance(last.get("speech"), str) \
            and isinstance(last.get("reprompt"), str):
        return Reply(speech=last["speech"], reprompt=last["reprompt"])
    return None


def previous_speech(handler_input: HandlerInput) -> str:
    """What the listener heard on the last open turn, as plain text (empty if nothing)."""
    last = last_reply(session_attributes(handler_input))
    return plain_text(last.speech) if last else ""


def request_locale(handler_input: HandlerInput) -> str | None:
    return getattr(handler_input.request_envelope.request, "locale", None)


def resolve_term(slot: Any) -> Term | None:
    """A glossary term from a slot: entity-resolution id first, raw words second."""
    if slot is None:
        return None
    for authority in getattr(getattr(slot, "resolutions", None), "resolutions_per_authority", None) or []:
        code = getattr(getattr(authority.status, "code", None), "value", None)
        if code == "ER_SUCCESS_MATCH" and authority.values:
            term = CONTENT.term_by_id.get(authority.values[0].value.id)
            if term:
                return term
    return CONTENT.find_term(slot.value)


def intent_name(handler_input: HandlerInput) -> str | None:
    """The intent of an IntentRequest; None for other requests or an intent-less one."""
    request = handler_input.request_envelope.request
    return getattr(request.intent, "name", None) if isinstance(request, IntentRequest) else None


def request_slot(handler_input: HandlerInput, name: str) -> Any:
    intent = getattr(handler_input.request_envelope.request, "intent", None)
    return (getattr(intent, "slots", None) or {}).get(name)


class IntentHandler(AbstractRequestHandler):
    """Base for handlers of a fixed set of intents (``intents``)."""

    intents: ClassVar[tuple[str, ...]] = ()

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return intent_name(handler_input) in self.intents


# --- requests -------------------------------------------------------------

class LaunchRequestHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return render(handler_input, replies.ask("welcome", "welcome_reprompt", previous_speech(handler_input)))


class TopicIntentHandler(AbstractRequestHandler):
    """Every article topic; which one is read from the content file."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return intent_name(handler_input) in CONTENT.topic_by_intent

    def handle(self, handler_input: HandlerInput) -> Response:
        topic = CONTENT.topic_by_intent[intent_name(handler_input)]
        previous = previous_speech(handler_input)
        reply = replies.topic_answer(topic, previous)
        if topic.id in CONTENT.prompts["red_flag_net_topics"]:
            reply = replies.with_red_flag_net(reply, request_locale(handler_input), previous)
        return render(handler_input, reply)


class GlossaryIntentHandler(IntentHandler):
    intents = (CONTENT.glossary_intent,)

    def handle(self, handler_input: HandlerInput) -> Response:
        term = resolve_term(request_slot(handler_input, CONTENT.glossary_slot))
        previous = previous_speech(handler_input)
        if term is None:
            return render(handler_input, not_understood(handler_input, "unknown_term", "unknown_term_reprompt"))
        return render(handler_input, replies.term_answer(term, previous))


class TwoTermsIntentHandler(IntentHandler):
    """Two glossary terms in one question: compared, or both asked about.

    A comparison with only its second term ("is that the same as Zometa?")
    compares it with the topic the listener is on; one term alone is defined.
    """

    intents = (CONTENT.two_terms.compare_intent, CONTENT.two_terms.both_intent)

    def handle(self, handler_input: HandlerInput) -> Response:
        first_slot, second_slot = CONTENT.two_terms.slots
        first = resolve_term(request_slot(handler_input, first_slot))
        second = resolve_term(request_slot(handler_input, second_slot))
        previous = previous_speech(handler_input)
        comparing = intent_name(handler_input) == CONTENT.two_terms.compare_intent
        if first is None and comparing:
            first = CONTENT.main_term.get(session_attributes(handler_input).get(TOPIC))
        if first is None or second is None:
            known = first or second
            if known is None:
                return render(handler_input, replies.ask_with_safety_net(
                    "unknown_term", "unknown_term_reprompt", request_locale(handler_input), previous))
            return render(handler_input, replies.term_answer(known, previous))
        answer = replies.compare_answer if comparing else replies.two_terms_answer
        return render(handler_input, answer(first, second, previous))


class NotCoveredIntentHandler(IntentHandler):
    """In-domain questions the article does not answer (survival odds, costs, exercises): say so.

    Like the fallback it closes with the safety net: a request the model put
    here could have been an emergency it missed.
    """

    intents = (CONTENT.not_covered_intent,)

    def handle(self, handler_input: HandlerInput) -> Response:
        return render(handler_input, replies.ask_with_safety_net(
            "not_covered", "ask_again", request_locale(handler_input), previous_speech(handler_input)))


class EmergencyIntentHandler(IntentHandler):
    """Red flags come first: the local emergency number, twice, before anything else."""

    intents = ("EmergencyIntent", "EmergencyCallIntent")

    def handle(self, handler_input: HandlerInput) -> Response:
        asked_to_call = intent_name(handler_input) == "EmergencyCallIntent"
        return render(handler_input, replies.emergency(request_locale(handler_input), asked_to_call=asked_to_call))


class UrgentCareIntentHandler(IntentHandler):
    """Signs that need a doctor today, not an ambulance: the locale's same-day service."""

    intents = ("UrgentCareIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        return render(handler_input, replies.urgent(request_locale(handler_input)))


class CancerTeamIntentHandler(IntentHandler):
    """New spinal pain in a man with prostate cancer (NICE NG234): his cancer team today."""

    intents = ("CancerTeamIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        return render(handler_input, replies.cancer_team(request_locale(handler_input)))


class CrisisIntentHandler(IntentHandler):
    """Thoughts of suicide or self-harm: the local crisis line, calmly; with a plan or the means, 911 first."""

    intents = ("CrisisIntent", "CrisisDangerIntent")

    def handle(self, handler_input: HandlerInput) -> Response:
        danger = intent_name(handler_input) == "CrisisDangerIntent"
        return render(handler_input, replies.crisis(request_locale(handler_input), danger=danger))


class SafetyFollowUpHandler(AbstractRequestHandler):
    """The turn after a safety reply: yes, repeat or "what was the number" says it all again; stop says it once more.

    Everything else goes to its usual handler, led by the short reminder (``carry_safety``).
    """

    AGAIN = ("AMAZON.YesIntent", "AMAZON.RepeatIntent", "SafetyNumberIntent")
    CLOSE = ("AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.NavigateHomeIntent")

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return (intent_name(handler_input) in self.AGAIN + self.CLOSE
                and safety_kind(session_attributes(handler_input)) is not None)

    def handle(self, handler_input: HandlerInput) -> Response:
        kind = safety_kind(session_attributes(handler_input))
        locale = request_locale(handler_input)
        if intent_name(handler_input) in self.CLOSE:
            return render(handler_input, replies.safety_goodbye(kind, locale, previous_speech(handler_input)))
        return render(handler_input, replies.safety_reply(kind, locale))


class SafetyNumberIntentHandler(IntentHandler):
    """ "What number do I call?" with no safety reply in the session: the emergency number, once."""

    intents = ("SafetyNumberIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        return render(handler_input, replies.number_without_context(request_locale(handler_input),
                                                                     previous_speech(handler_input)))


class RemindMeIntentHandler(IntentHandler):
    """Asked for a reminder to call the doctor: say what and when, and ask first."""

    intents = ("RemindMeIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        if session_attributes(handler_input).get(REMINDER) == reminders.CREATED:
            return render(handler_input, reminders.answer(reminders.ALREADY_SET))
        return render(handler_input, reminders.offer())


class ReminderOfferAnswerHandler(AbstractRequestHandler):
    """Yes or no to "Shall I?" about the reminder; other offers stay with Yes/No below."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return (intent_name(handler_input) in ("AMAZON.YesIntent", "AMAZON.NoIntent")
                and session_attributes(handler_input).get(OFFER) == reminders.OFFER)

    def handle(self, handler_input: HandlerInput) -> Response:
        if intent_name(handler_input) == "AMAZON.NoIntent":
            return render(handler_input, reminders.answer(reminders.DECLINED))
        if not reminders.has_permission(handler_input.request_envelope):
            # Alexa asks by voice and answers with a Connections.Response; say nothing now.
            session_attributes(handler_input)[OFFER] = None
            return handler_input.response_builder.add_directive(reminders.consent_directive()).response
        return set_reminder(handler_input)


class ConsentAnswerHandler(AbstractRequestHandler):
    """Alexa's answer to the voice permission request (Connections.Response or SessionResumedRequest)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return reminders.is_consent_answer(handler_input.request_envelope.request)

    def handle(self, handler_input: HandlerInput) -> Response:
        answer = reminders.consent_answer(handler_input.request_envelope.request)
        log.info("reminder consent=%s", answer)
        if answer == reminders.ACCEPTED:
            return set_reminder(handler_input)
        return render_reminder_outcome(handler_input, answer)


def set_reminder(handler_input: HandlerInput) -> Response:
    """Create this session's one reminder (a second request only hears that it exists)."""
    attrs = session_attributes(handler_input)
    if attrs.get(REMINDER) == reminders.CREATED:
        return render(handler_input, reminders.answer(reminders.ALREADY_SET))
    result = reminders.create(handler_input)
    if result.outcome == reminders.CREATED and result.scheduled is not None:
        attrs[REMINDER] = reminders.CREATED
        return render(handler_input, reminders.confirmed(result.scheduled))
    return render_reminder_outcome(handler_input, result.outcome)


def render_reminder_outcome(handler_input: HandlerInput, outcome: str) -> Response:
    """No reminder: a calm reply, plus the Alexa app consent card when permission is missing."""
    response = render(handler_input, reminders.answer(outcome))
    if reminders.needs_card(outcome):
        response.card = reminders.consent_card()
    return response


class YesIntentHandler(IntentHandler):
    intents = ("AMAZON.YesIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        attrs = session_attributes(handler_input)
        offered = CONTENT.topic_by_id.get(attrs.get(OFFER))
        if offered is None:
            return render(handler_input, replies.ask("yes_without_offer", None, previous_speech(handler_input)))
        answer = replies.topic_more if attrs.get(OFFER_MORE) is True else replies.topic_answer
        return render(handler_input, answer(offered, previous_speech(handler_input)))


class NoIntentHandler(IntentHandler):
    intents = ("AMAZON.NoIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        return render(handler_input, replies.ask("no", None, previous_speech(handler_input)))


class TellMeMoreIntentHandler(IntentHandler):
    """The topic's longer answer, once: asked again, there is no more, and the next topic is offered."""

    intents = ("TellMeMoreIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        attrs = session_attributes(handler_input)
        topic = CONTENT.topic_by_id.get(attrs.get(TOPIC))
        previous = previous_speech(handler_input)
        if topic is None:
            return render(handler_input, replies.ask("more_without_topic", None, previous))
        if attrs.get(TOLD_MORE) is True:
            return render(handler_input, replies.no_more(topic, previous))
        return render(handler_input, replies.topic_more(topic, previous))


class RepeatIntentHandler(IntentHandler):
    intents = ("AMAZON.RepeatIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        last = last_reply(session_attributes(handler_input))
        if last is None:
            return render(handler_input, replies.ask("repeat_nothing", None, previous_speech(handler_input)))
        return render(handler_input, last, replay=True)


class SlowerIntentHandler(IntentHandler):
    """Slow down one step, repeat the last answer, and keep the pace for the session."""

    intents = ("SlowerIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        attrs = session_attributes(handler_input)
        attrs[RATE] = min(clamp_rate(attrs.get(RATE)) + 1, len(RATES) - 1)
        last = last_reply(attrs)
        if last is None:
            return render(handler_input, replies.ask("slower_nothing", None, previous_speech(handler_input)))
        return render(handler_input, last, replay=True)


class NormalSpeedIntentHandler(IntentHandler):
    intents = ("NormalSpeedIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        session_attributes(handler_input)[RATE] = 0
        return render(handler_input, replies.ask("normal_speed", None, previous_speech(handler_input)))


class FollowUpIntentHandler(IntentHandler):
    """ "How common is that?", "how often do they give it?": answered from the session's topic.

    Alexa sends no words, only which kind of follow-up it was; the topic the
    listener is on and the content's table decide the answer. With no topic
    there is nothing to point back to: the skill offers the topic the words
    name, or asks for the whole question, rather than guess.
    """

    intents = tuple(CONTENT.follow_up_by_intent)

    def handle(self, handler_input: HandlerInput) -> Response:
        attrs = session_attributes(handler_input)
        kind = CONTENT.follow_up_by_intent[intent_name(handler_input)]
        topic = CONTENT.topic_by_id.get(attrs.get(TOPIC))
        previous = previous_speech(handler_input)
        if topic is None:
            return render(handler_input, replies.follow_up_without_topic(kind, request_locale(handler_input), previous))
        return render(handler_input, replies.follow_up(kind, topic, previous, told_more=attrs.get(TOLD_MORE) is True))


class PersonalQuestionIntentHandler(IntentHandler):
    """ "Do I have cancer?", "what's my PSA result?": the skill cannot know; the doctor can."""

    intents = (CONTENT.personal_intent,)

    def handle(self, handler_input: HandlerInput) -> Response:
        return render(handler_input, replies.ask("personal", "personal_reprompt", previous_speech(handler_input)))


class SmallTalkIntentHandler(IntentHandler):
    """ "Hello", "thank you", "how are you": a short friendly reply with the help hint.

    Alexa sends only which kind it was (greeting or thanks), never the words;
    the content names the prompt that answers each kind.
    """

    intents = tuple(CONTENT.small_talk_by_intent)

    def handle(self, handler_input: HandlerInput) -> Response:
        reply = CONTENT.small_talk_by_intent[intent_name(handler_input)].reply
        return render(handler_input, replies.ask(reply, None, previous_speech(handler_input)))


class HelpIntentHandler(IntentHandler):
    intents = ("AMAZON.HelpIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        return render(handler_input, replies.ask("help", "help_reprompt", previous_speech(handler_input)))


class StartOverIntentHandler(IntentHandler):
    """Forget the conversation so far; keep the listener's chosen pace."""

    intents = ("AMAZON.StartOverIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        previous = previous_speech(handler_input)
        attrs = session_attributes(handler_input)
        for key in (TOPIC, OFFER, LAST, TOLD_MORE, OFFER_MORE):
            attrs.pop(key, None)
        return render(handler_input, replies.ask("start_over", "welcome_reprompt", previous))


class GoodbyeIntentHandler(IntentHandler):
    intents = ("AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.NavigateHomeIntent")

    def handle(self, handler_input: HandlerInput) -> Response:
        return render(handler_input, replies.goodbye())


class FallbackIntentHandler(IntentHandler):
    intents = ("AMAZON.FallbackIntent",)

    def can_handle(self, handler_input: HandlerInput) -> bool:
        """Also takes intents the model does not know, rather than failing."""
        return is_request_type("IntentRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return render(handler_input, not_understood(handler_input, "fallback", "fallback_reprompt"))


class SessionEndedRequestHandler(AbstractRequestHandler):
    """Alexa closed the session: nothing may be spoken."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("SessionEndedRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return handler_input.response_builder.response


class CanFulfillIntentRequestHandler(AbstractRequestHandler):
    """Name-free interaction: say YES only for questions we can answer."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("CanFulfillIntentRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        intent = getattr(handler_input.request_envelope.request, "intent", None)
        name = getattr(intent, "name", None)
        slots: dict[str, CanFulfillSlot] = {}
        if name in CONTENT.topic_by_intent:
            verdict = CanFulfillIntentValues.YES
        elif name == CONTENT.glossary_intent:
            known = resolve_term(request_slot(handler_input, CONTENT.glossary_slot)) is not None
            verdict = CanFulfillIntentValues.YES if known else CanFulfillIntentValues.NO
            slots[CONTENT.glossary_slot] = CanFulfillSlot(
                can_understand=CanUnderstandSlotValues.YES if known else CanUnderstandSlotValues.NO,
                can_fulfill=CanFulfillSlotValues.YES if known else CanFulfillSlotValues.NO)
        else:
            verdict = CanFulfillIntentValues.NO
        handler_input.response_builder.set_can_fulfill_intent(
            CanFulfillIntent(can_fulfill=verdict, slots=slots or None))
        return handler_input.response_builder.response


class UnhandledRequestHandler(AbstractRequestHandler):
    """Any other request type (AudioPlayer, Display, ...): answer, silently."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        return handler_input.response_builder.response


class CatchAllExceptionHandler(AbstractExceptionHandler):
    """Never leave the listener in silence; log where it broke, never what they said."""

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        log.error("skill error type=%s at=%s", type(exception).__name__, where(exception))
        # Built directly, not via render(): the session state may be what broke.
        return (handler_input.response_builder.speak(replies.prompt("error"))
                .ask(replies.prompt("error_reprompt")).response)


# Order matters: the SDK takes the first handler whose can_handle is true.
REQUEST_HANDLERS: tuple[AbstractRequestHandler, ...] = (
    LaunchRequestHandler(),
    CanFulfillIntentRequestHandler(),
    SessionEndedRequestHandler(),
    EmergencyIntentHandler(),
    UrgentCareIntentHandler(),
    CancerTeamIntentHandler(),
    CrisisIntentHandler(),
    SafetyFollowUpHandler(),
    SafetyNumberIntentHandler(),
    TopicIntentHandler(),
    GlossaryIntentHandler(),
    TwoTermsIntentHandler(),
    NotCoveredIntentHandler(),
    RemindMeIntentHandler(),
    ReminderOfferAnswerHandler(),
    ConsentAnswerHandler(),
    YesIntentHandler(),
    NoIntentHandler(),
    TellMeMoreIntentHandler(),
    RepeatIntentHandler(),
    SlowerIntentHandler(),
    NormalSpeedIntentHandler(),
    FollowUpIntentHandler(),
    PersonalQuestionIntentHandler(),
    SmallTalkIntentHandler(),
    HelpIntentHandler(),
    StartOverIntentHandler(),
    GoodbyeIntentHandler(),
    FallbackIntentHandler(),
    UnhandledRequestHandler(),
)


def handled_intents() -> set[str]:
    """Every intent name a handler answers by name: must equal the models' intents."""
    names = {t for t in CONTENT.topic_by_intent}
    for handler in REQUEST_HANDLERS:
        names.update(getattr(handler, "intents", ()))
    return names
