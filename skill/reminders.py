"""A reminder to call the doctor: the reminder, the permission it needs, and what to say.

One kind of reminder only: once, tomorrow at 09:00 in the device's time zone,
saying ``prompts.reminder_text``. The flow, spread over turns by the handlers:

1. ``RemindMeIntent``: say what will be created and when, and ask (Amazon's
   reminder guidelines want the time stated before anything is created).
2. "Yes": with the reminders permission granted, create it; without, ask for
   the permission by voice. Amazon's page "Set Up Voice Permissions for
   Reminders" (https://developer.amazon.com/en-US/docs/alexa/smapi/voice-permissions-for-reminders.html)
   shows a ``Connections.SendRequest`` directive named ``AskFor`` for this, and
   Alexa answers with a ``Connections.Response``. The newer voice-forward consent
   (``Connections.StartConnection`` to ``AMAZON.AskForPermissionsConsent``,
   answered by a ``SessionResumedRequest``) is understood too.
3. The answer: ACCEPTED creates the reminder; DENIED, or a device that cannot
   ask by voice, gets the Alexa app consent card; NOT_ANSWERED leaves it be.

Every failure of the Reminders API gets a calm answer that still says to call
the doctor, and the session goes on. A request id that already made (or
tried to make) a reminder is answered "already set": a replayed request
makes none (``skill.replays``). Logs carry the outcome type, never a token,
id or time zone.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from . import replays
from .content import CONTENT, Content
from .replies import Reply, prompt, question

log = logging.getLogger(__name__)

SCOPE = "alexa::alerts:reminders:skill:readwrite"
CONSENT_TOKEN = "remind-to-call-doctor"   # echoed back by Alexa with the consent answer
OFFER = "reminder"                        # the session's ``offer`` while "Shall I?" is pending
REMINDER_HOUR = 9
ASK_FOR = "AskFor"

# Outcomes, as logged (``reminder outcome=...``) and as the handlers branch on.
CREATED, ALREADY_SET = "created", "already_set"
REVOKED, THROTTLED, SERVER_ERROR = "revoked", "throttled", "server_error"
TIMEOUT, UNSUPPORTED, FAILED = "timeout", "unsupported", "failed"
ACCEPTED, DENIED, NOT_ANSWERED, UNAVAILABLE = "ACCEPTED", "DENIED", "NOT_ANSWERED", "UNAVAILABLE"
DECLINED = "declined"                     # "no" to "Shall I?"


# --- time -------------------------------------------------------------------

def request_now(request: Any) -> datetime:
    """The moment of the request, in UTC: Alexa's own timestamp, else this machine's clock.

    Alexa stamps every request with when it heard the user; using it makes
    "tomorrow" follow the request (and lets tests pick the date, say the eve of
    a daylight-saving change) rather than whenever this code happens to run.
    """
    stamp = getattr(request, "timestamp", None)
    if isinstance(stamp, datetime):
        return stamp.astimezone(timezone.utc) if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)


def tomorrow_at(now: datetime, zone: str, hour: int = REMINDER_HOUR) -> datetime:
    """Tomorrow at ``hour`` o'clock, local wall time in ``zone`` (naive, as the API wants it).

    Tomorrow is the device's tomorrow: at 23:30 in Sydney it is already the
    next day in UTC terms, and a DST change overnight does not move 09:00.
    Raises ``ValueError`` for a zone that is not an IANA name.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        local_today: date = now.astimezone(ZoneInfo(zone)).date()
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("not a time zone") from exc
    return datetime.combine(local_today + timedelta(days=1), time(hour))


# --- permission -------------------------------------------------------------

def has_permission(envelope: Any) -> bool:
    """Whether the user has granted the reminders scope (``context.System.user.permissions``)."""
    system = getattr(getattr(envelope, "context", None), "system", None)
    permissions = getattr(getattr(system, "user", None), "permissions", None)
    if permissions is None:
        return False
    scopes = getattr(permissions, "scopes", None) or {}
    scope = scopes.get(SCOPE)
    if scope is not None:
        return getattr(getattr(scope, "status", None), "value", None) == "GRANTED"
    # Older envelopes carry only a consent token once some permission is granted.
    return bool(getattr(permissions, "consent_token", None)) and not scopes


def consent_directive() -> Any:
    """Ask Alexa to ask the user, by voice, for the reminders permission."""
    from ask_sdk_model.interfaces.connections import SendRequestDirective

    return SendRequestDirective(
        name=ASK_FOR, token=CONSENT_TOKEN,
        payload={"@type": "AskForPermissionsConsentRequest", "@version": "1", "permissionScope": SCOPE})


def consent_card() -> Any:
    """The Alexa app card that lets the user grant the permission there."""
    from ask_sdk_model.ui import AskForPermissionsConsentCard

    return AskForPermissionsConsentCard(permissions=[SCOPE])


def is_consent_answer(request: Any) -> bool:
    """A ``Connections.Response`` to our AskFor, or a ``SessionResumedRequest`` after consent."""
    kind = getattr(request, "object_type", None)
    if kind == "Connections.Response":
        return getattr(request, "name", None) == ASK_FOR
    if kind == "SessionResumedRequest":
        cause = getattr(request, "cause", None)
        return getattr(cause, "object_type", None) == "ConnectionCompleted"
    return False


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def consent_answer(request: Any) -> str:
    """ACCEPTED, DENIED or NOT_ANSWERED; UNAVAILABLE when Alexa could not ask by voice."""
    if getattr(request, "object_type", None) == "SessionResumedRequest":
        cause = request.cause
        status, result = getattr(cause, "status", None), getattr(cause, "result", None)
    else:
        status, result = getattr(request, "status", None), getattr(request, "payload", None)
    if str(_get(status, "code")) != "200":
        return UNAVAILABLE
    answer = _get(result, "status")
    return answer if answer in (ACCEPTED, DENIED, NOT_ANSWERED) else UNAVAILABLE


# --- the API call -------------------------------------------------------------

def reminder_request(now: datetime, scheduled: datetime, zone: str, locale: str,
                     content: Content = CONTENT) -> Any:
    """The Reminders API body: one SCHEDULED_ABSOLUTE reminder, spoken text, push notification."""
    from ask_sdk_model.services.reminder_management import (
        AlertInfo, PushNotification, PushNotificationStatus, ReminderRequest, SpokenInfo, SpokenText,
        Trigger, TriggerType)

    return ReminderRequest(
        request_time=now.replace(tzinfo=None, microsecond=0),
        trigger=Trigger(object_type=TriggerType.SCHEDULED_ABSOLUTE, scheduled_time=scheduled,
                        time_zone_id=zone),
        alert_info=AlertInfo(spoken_info=SpokenInfo(content=[
            SpokenText(locale=locale, text=content.prompts["reminder_text"])])),
        push_notification=PushNotification(status=PushNotificationStatus.ENABLED))


def failure_kind(exc: BaseException) -> str:
    """The outcome type for an exception out of an ask-sdk service client call."""
    from .api_client import ApiCallFailed

    cause: BaseException | None = exc
    while cause is not None:                 # the SDK wraps client errors in ServiceException
        if isinstance(cause, ApiCallFailed):
            return TIMEOUT if cause.kind == "timeout" else UNSUPPORTED if cause.kind == "refused" else FAILED
        cause = cause.__cause__ or cause.__context__
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        return REVOKED
    if status == 429:
        return THROTTLED
    if isinstance(status, int) and status >= 500:
        return SERVER_ERROR
    if status == 400 and getattr(getattr(exc, "body", None), "code", None) == "DEVICE_NOT_SUPPORTED":
        return UNSUPPORTED
    return FAILED


@dataclass(frozen=True)
class Result:
    outcome: str
    scheduled: datetime | None = None


def create(handler_input: Any) -> Result:
    """Read the device's time zone, then create tomorrow's 09:00 reminder. Never raises."""
    envelope = handler_input.request_envelope
    system = envelope.context.system if envelope.context else None
    device_id = getattr(getattr(system, "device", None), "device_id", None)
    factory = handler_input.service_client_factory
    if factory is None or not device_id or not getattr(system, "api_access_token", None):
        return _logged(Result(UNSUPPORTED))
    if not replays.first_time(getattr(envelope.request, "request_id", None)):
        return _logged(Result(ALREADY_SET))   # a replay of a request that already acted
    now = request_now(envelope.request)
    try:
        zone = factory.get_ups_service().get_system_time_zone(device_id)
        scheduled = tomorrow_at(now, zone if isinstance(zone, str) else "")
        body = reminder_request(now, scheduled, zone, getattr(envelope.request, "locale", None) or "en-US")
        factory.get_reminder_management_service().create_reminder(body)
    except ValueError:            # the settings API gave no usable time zone
        return _logged(Result(FAILED))
    except Exception as exc:
        return _logged(Result(failure_kind(exc)))
    return _logged(Result(CREATED, scheduled))


def _logged(result: Result) -> Result:
    log.info("reminder outcome=%s", result.outcome)
    return result


# --- what the skill says ------------------------------------------------------

def _reply(key: str, content: Content, **values: str) -> Reply:
    """A statement that ends in a question, so the session stays open."""
    return Reply(speech=prompt(key, content, **values),
                 reprompt=prompt("ask_again", content, question=question(content=content)))


def offer(content: Content = CONTENT) -> Reply:
    """What will be created and when, then "Shall I?"; "yes" is routed back here by ``offer``."""
    return Reply(speech=prompt("reminder_offer", content),
                 reprompt=prompt("reminder_offer_reprompt", content), offer=OFFER)


def confirmed(scheduled: datetime, content: Content = CONTENT) -> Reply:
    """Done: says when, by weekday, so the listener can check it."""
    return _reply("reminder_set", content, day=scheduled.strftime("%A"))


OUTCOME_PROMPTS = {
    ALREADY_SET: "reminder_already_set",
    REVOKED: "reminder_permission",
    UNSUPPORTED: "reminder_unsupported",
    DENIED: "reminder_permission",
    UNAVAILABLE: "reminder_permission",
    NOT_ANSWERED: "reminder_not_answered",
    DECLINED: "reminder_declined",
}


def answer(outcome: str, content: Content = CONTENT) -> Reply:
    """The reply for an outcome other than CREATED: calm, names the doctor, keeps the session."""
    return _reply(OUTCOME_PROMPTS.get(outcome, "reminder_failed"), content)


def needs_card(outcome: str) -> bool:
    """Refused, revoked, or no voice consent on this device: point to the Alexa app."""
    return outcome in (DENIED, UNAVAILABLE, REVOKED)
