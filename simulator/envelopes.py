"""Request envelopes shaped like the ones Alexa sends, as JSON-ready dicts.

Built from ask-sdk-model types and serialised with the SDK's own
DefaultSerializer, so a skill sees exactly the structure it would get from
Alexa (and a malformed envelope fails here rather than in the skill).
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import (
    Application, Context, Device, Intent, IntentConfirmationStatus, IntentRequest,
    LaunchRequest, RequestEnvelope, Session, SessionEndedReason, SessionEndedRequest,
    Slot, SlotConfirmationStatus, SupportedInterfaces, User,
)
from ask_sdk_model.canfulfill import CanFulfillIntentRequest
from ask_sdk_model.dialog_state import DialogState
from ask_sdk_model.interfaces.audioplayer import AudioPlayerInterface, AudioPlayerState, PlayerActivity
from ask_sdk_model.interfaces.system import SystemState
from ask_sdk_model.session_ended_error import SessionEndedError
from ask_sdk_model.session_ended_error_type import SessionEndedErrorType
from ask_sdk_model.slu.entityresolution import Resolution, Resolutions, Status, StatusCode, Value, ValueWrapper

__all__ = [
    "Identity", "SessionInfo", "launch_request", "intent_request", "session_ended_request",
    "can_fulfill_intent_request", "build_slot", "timestamp", "envelope_around",
]

DEFAULT_APPLICATION_ID = "amzn1.ask.skill.simulator"
API_ENDPOINT = "https://api.amazonalexa.com"
_SERIALIZER = DefaultSerializer()


def timestamp(now: datetime | None = None) -> str:
    """UTC time as Alexa writes it: YYYY-MM-DDTHH:MM:SSZ."""
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _opaque(prefix: str, size: int = 48) -> str:
    return prefix + secrets.token_hex(size).upper()[:size * 2]


@dataclass(slots=True)
class Identity:
    """Who is talking, on what: stays fixed across the sessions of a conversation."""

    skill_id: str | None = None
    user_id: str = field(default_factory=lambda: _opaque("amzn1.ask.account."))
    device_id: str = field(default_factory=lambda: _opaque("amzn1.ask.device.", 32))
    api_access_token: str = field(default_factory=lambda: "simulator." + secrets.token_urlsafe(24))

    @property
    def application_id(self) -> str:
        return self.skill_id or DEFAULT_APPLICATION_ID


@dataclass(slots=True)
class SessionInfo:
    """One Alexa session: id, whether this is its first request, its attributes."""

    session_id: str = field(default_factory=lambda: f"amzn1.echo-api.session.{uuid.uuid4()}")
    new: bool = True
    attributes: dict[str, Any] = field(default_factory=dict)


def _context(identity: Identity) -> Context:
    application = Application(application_id=identity.application_id)
    device = Device(device_id=identity.device_id,
                    supported_interfaces=SupportedInterfaces(audio_player=AudioPlayerInterface()))
    system = SystemState(application=application, user=User(user_id=identity.user_id), device=device,
                         api_endpoint=API_ENDPOINT, api_access_token=identity.api_access_token)
    return Context(system=system, audio_player=AudioPlayerState(player_activity=PlayerActivity.IDLE))


def _session(identity: Identity, session: SessionInfo) -> Session:
    return Session(new=session.new, session_id=session.session_id,
                   application=Application(application_id=identity.application_id),
                   user=User(user_id=identity.user_id),
                   attributes=None if session.new and not session.attributes else dict(session.attributes))


def _request_id() -> str:
    return f"amzn1.echo-api.request.{uuid.uuid4()}"


def _envelope(identity: Identity, session: SessionInfo | None, request: Any) -> dict[str, Any]:
    envelope = RequestEnvelope(version="1.0", context=_context(identity), request=request,
                               session=_session(identity, session) if session else None)
    data: dict[str, Any] = _SERIALIZER.serialize(envelope)
    data["request"]["timestamp"] = timestamp()
    # Alexa marks user-provided slot values with source USER; ask-sdk-model has no field for it.
    for slot in data["request"].get("intent", {}).get("slots", {}).values():
        if "value" in slot:
            slot["source"] = "USER"
    return data


def build_slot(slot: dict[str, Any]) -> Slot:
    """An ask-sdk-model Slot from a request-JSON slot dict (as nlu produces)."""
    resolutions = None
    per_authority = slot.get("resolutions", {}).get("resolutionsPerAuthority", [])
    if per_authority:
        resolutions = Resolutions(resolutions_per_authority=[
            Resolution(authority=r.get("authority"), status=Status(code=StatusCode(r["status"]["code"])),
                       values=[ValueWrapper(value=Value(name=v["value"]["name"], id=v["value"].get("id")))
                               for v in r.get("values", [])] or None)
            for r in per_authority])
    return Slot(name=slot["name"], value=slot.get("value"), resolutions=resolutions,
                confirmation_status=SlotConfirmationStatus(slot.get("confirmationStatus", "NONE")))


def _intent(name: str, slots: dict[str, dict[str, Any]], confirmation: str) -> Intent:
    return Intent(name=name, confirmation_status=IntentConfirmationStatus(confirmation),
                  slots={key: build_slot(value) for key, value in slots.items()})


def launch_request(identity: Identity, session: SessionInfo, locale: str) -> dict[str, Any]:
    request = LaunchRequest(request_id=_request_id(), timestamp=datetime.now(timezone.utc), locale=locale)
    return _envelope(identity, session, request)


def intent_request(identity: Identity, session: SessionInfo, locale: str, intent: str,
                   slots: dict[str, dict[str, Any]], *, dialog_state: str | None = None,
                   confirmation: str = "NONE") -> dict[str, Any]:
    """IntentRequest; dialog_state only for intents with a dialog model, as Alexa does."""
    request = IntentRequest(request_id=_request_id(), timestamp=datetime.now(timezone.utc), locale=locale,
                            intent=_intent(intent, slots, confirmation),
                            dialog_state=DialogState(dialog_state) if dialog_state else None)
    return _envelope(identity, session, request)


def session_ended_request(identity: Identity, session: SessionInfo, locale: str,
                          reason: str = "USER_INITIATED", error: str | None = None,
                          error_type: str = "INVALID_RESPONSE") -> dict[str, Any]:
    """SessionEndedRequest; error (a message) only with reason ERROR."""
    detail = (SessionEndedError(object_type=SessionEndedErrorType(error_type), message=error)
              if error else None)
    request = SessionEndedRequest(request_id=_request_id(), timestamp=datetime.now(timezone.utc), locale=locale,
                                  reason=SessionEndedReason(reason), error=detail)
    return _envelope(identity, session, request)


def can_fulfill_intent_request(identity: Identity, locale: str, intent: str,
                               slots: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """CanFulfillIntentRequest: Alexa asks before any session exists, so it gets a fresh one."""
    request = CanFulfillIntentRequest(request_id=_request_id(), timestamp=datetime.now(timezone.utc),
                                      locale=locale, intent=_intent(intent, slots, "NONE"))
    return _envelope(identity, SessionInfo(), request)


def envelope_around(identity: Identity, session: SessionInfo, request: dict[str, Any]) -> dict[str, Any]:
    """An envelope around a request written as JSON (Connections.Response, SessionResumedRequest).

    The envelope still goes through the SDK's deserializer, so a shape the SDK
    cannot read fails here rather than in the skill.
    """
    data: dict[str, Any] = _SERIALIZER.serialize(RequestEnvelope(
        version="1.0", context=_context(identity), session=_session(identity, session)))
    data["request"] = request
    _SERIALIZER.deserialize(json.dumps(data), RequestEnvelope)
    return data
