"""Request envelopes shaped like the ones Alexa sends, and a dialog that carries session state.

Used by the skill, webhook and model tests; every request goes in as the full
JSON an Echo device would produce (session, context, locale), never as a
hand-built SDK object.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

APP_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
USER_ID = "amzn1.ask.account.TESTUSERSECRET"
DEVICE_ID = "amzn1.ask.device.TESTDEVICESECRET"
LOCALES = ("en-US", "en-GB", "en-CA", "en-AU", "en-IN")
REMINDERS_SCOPE = "alexa::alerts:reminders:skill:readwrite"


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _request(kind: str, locale: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": now_iso(), "locale": locale, **extra}


def launch(locale: str = "en-US") -> dict[str, Any]:
    return _request("LaunchRequest", locale)


def slot(name: str, value: str | None = None, *, er_id: str | None = None,
         er_name: str | None = None, no_match: bool = False, slot_type: str = "MEDICAL_TERM") -> dict[str, Any]:
    """A slot as Alexa fills it, with an entity-resolution block when asked for."""
    result: dict[str, Any] = {"name": name, "confirmationStatus": "NONE"}
    if value is not None:
        result.update(value=value, source="USER")
    if er_id or no_match:
        authority = {"authority": f"amzn1.er-authority.echo-sdk.{APP_ID}.{slot_type}",
                     "status": {"code": "ER_SUCCESS_NO_MATCH" if no_match else "ER_SUCCESS_MATCH"}}
        if not no_match:
            authority["values"] = [{"value": {"name": er_name or value, "id": er_id}}]
        result["resolutions"] = {"resolutionsPerAuthority": [authority]}
    return result


def intent(name: str, slots: dict[str, dict[str, Any]] | None = None, locale: str = "en-US") -> dict[str, Any]:
    return _request("IntentRequest", locale, dialogState="COMPLETED",
                    intent={"name": name, "confirmationStatus": "NONE", "slots": slots or {}})


def session_ended(reason: str = "USER_INITIATED", locale: str = "en-US") -> dict[str, Any]:
    return _request("SessionEndedRequest", locale, reason=reason)


def can_fulfill(name: str, slots: dict[str, dict[str, Any]] | None = None, locale: str = "en-US") -> dict[str, Any]:
    return _request("CanFulfillIntentRequest", locale,
                    intent={"name": name, "confirmationStatus": "NONE", "slots": slots or {}})


def connections_response(status: str, locale: str = "en-US", code: str = "200") -> dict[str, Any]:
    """Alexa's answer to the skill's voice permission request (Connections.SendRequest AskFor)."""
    return _request("Connections.Response", locale, name="AskFor", token="remind-to-call-doctor",
                    status={"code": code, "message": "OK" if code == "200" else "Error"},
                    payload={"permissionScope": REMINDERS_SCOPE, "status": status})


def session_resumed(status: str, locale: str = "en-US") -> dict[str, Any]:
    """The voice-forward consent answer (after Connections.StartConnection)."""
    return _request("SessionResumedRequest", locale, cause={
        "type": "ConnectionCompleted", "token": "remind-to-call-doctor", "status": {"code": "200", "message": "OK"},
        "result": {"status": status, "permissionScopes": [{"permissionScope": REMINDERS_SCOPE,
                                                           "consentLevel": "ACCOUNT"}]}})


def point_at_api(env: dict[str, Any], endpoint: str, token: str, *, granted: bool,
                 timestamp: str | None = None) -> dict[str, Any]:
    """Aim an envelope at a (local) Alexa API, with or without the reminders permission."""
    system = env["context"]["System"]
    system["apiEndpoint"], system["apiAccessToken"] = endpoint, token
    for user in (system["user"], env["session"]["user"]):
        if granted:
            user["permissions"] = {"consentToken": "TESTCONSENTSECRET",
                                   "scopes": {REMINDERS_SCOPE: {"status": "GRANTED"}}}
        else:
            user.pop("permissions", None)
    if timestamp:
        env["request"]["timestamp"] = timestamp
    return env


def envelope(request: dict[str, Any], *, attributes: dict[str, Any] | None = None,
             new: bool = True, session_id: str | None = None, app_id: str = APP_ID) -> dict[str, Any]:
    """A full request envelope around ``request``."""
    application = {"applicationId": app_id}
    user = {"userId": USER_ID}
    return {
        "version": "1.0",
        "session": {"new": new, "sessionId": session_id or f"amzn1.echo-api.session.{uuid.uuid4()}",
                    "application": dict(application), "attributes": attributes or {}, "user": dict(user)},
        "context": {"System": {
            "application": dict(application), "user": dict(user),
            "device": {"deviceId": DEVICE_ID, "supportedInterfaces": {}},
            "apiEndpoint": "https://api.amazonalexa.com", "apiAccessToken": "TESTTOKENSECRET"}},
        "request": request,
    }


Send = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class Dialog:
    """One Alexa session: session attributes flow from each response into the next request."""

    send: Send
    locale: str = "en-US"
    attributes: dict[str, Any] = field(default_factory=dict)
    session_id: str = field(default_factory=lambda: f"amzn1.echo-api.session.{uuid.uuid4()}")
    turns: int = 0
    prepare: Callable[[dict[str, Any]], Any] | None = None   # e.g. point_at_api, before each send

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        env = envelope(request, attributes=self.attributes, new=self.turns == 0,
                       session_id=self.session_id)
        if self.prepare is not None:
            self.prepare(env)
        response = self.send(env)
        self.turns += 1
        self.attributes = response.get("sessionAttributes") or {}
        return response

    def launch(self) -> dict[str, Any]:
        return self.request(launch(self.locale))

    def intent(self, name: str, **slots: dict[str, Any]) -> dict[str, Any]:
        return self.request(intent(name, slots or None, self.locale))
