"""Alexa's part around a skill's API calls: the user's permissions and the voice consent dialog.

``AlexaSide`` holds the simulated user's permission state (``ask``, ``granted``
or ``denied``), writes the local API's endpoint and a matching token (and,
once granted, ``user.permissions``) into every envelope, and plays Alexa's
part when the skill asks for a permission by voice:

- ``Connections.SendRequest`` named ``AskFor`` (what Amazon's reminders page
  shows) is answered with a ``Connections.Response``;
- ``Connections.StartConnection`` to ``AMAZON.AskForPermissionsConsent`` is
  answered with a ``SessionResumedRequest``.

With ``ask``, Alexa speaks its own consent question and the user's next
utterance (yes or no, or anything else: NOT_ANSWERED) becomes the answer;
``granted`` and ``denied`` answer at once, as Alexa does when the user has
already decided.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from .alexa_api import AlexaApi, user_key
from .builtins import BUILTIN_PHRASES
from .normalize import normalize

__all__ = ["AlexaSide", "PendingConsent", "PERMISSION_STATES", "REMINDERS_SCOPE"]

PERMISSION_STATES = ("ask", "granted", "denied")
REMINDERS_SCOPE = "alexa::alerts:reminders:skill:readwrite"
ASK_FOR, START_CONNECTION = "AskFor", "StartConnection"
CONSENT_URI_PREFIX = "connection://AMAZON.AskForPermissionsConsent/"
# Alexa's wording on Amazon's voice-permissions-for-reminders page.
QUESTION = "Do you give {skill} permission to update your reminders? You can say I approve or no."
APPROVE = {"i approve", "approve", "i allow it", "allow", "allow it", "yes i approve", "i do"}
REFUSE = {"i don't approve", "i do not approve", "don't allow", "do not allow", "deny", "i don't"}


@dataclass(frozen=True)
class PendingConsent:
    """A consent question Alexa has asked and the user has not yet answered."""

    kind: str            # ASK_FOR or START_CONNECTION
    token: str
    scope: str

    def state(self) -> list[str]:
        return [self.kind, self.token, self.scope]

    @classmethod
    def restore(cls, value: Any) -> "PendingConsent":
        if (not isinstance(value, list) or len(value) != 3 or value[0] not in (ASK_FOR, START_CONNECTION)
                or not all(isinstance(v, str) and len(v) <= 256 for v in value)):
            raise ValueError("consent must be [AskFor|StartConnection, token, scope]")
        return cls(*value)


def _scopes(directive: dict[str, Any]) -> list[str]:
    if directive.get("type") == "Connections.SendRequest":
        payload = directive.get("payload") or {}
        scope = payload.get("permissionScope") if isinstance(payload, dict) else None
        return [scope] if isinstance(scope, str) else []
    body = directive.get("input") or {}
    scopes = body.get("permissionScopes") if isinstance(body, dict) else None
    return [s.get("permissionScope") for s in scopes or [] if isinstance(s, dict)
            and isinstance(s.get("permissionScope"), str)]


def consent_asked(directives: list[dict[str, Any]]) -> PendingConsent | None:
    """The consent request among a response's directives, if there is one."""
    for directive in directives:
        kind = directive.get("type")
        if kind == "Connections.SendRequest" and directive.get("name") == ASK_FOR:
            name = ASK_FOR
        elif kind == "Connections.StartConnection" and str(directive.get("uri", "")).startswith(CONSENT_URI_PREFIX):
            name = START_CONNECTION
        else:
            continue
        scopes = _scopes(directive)
        token = directive.get("token")
        return PendingConsent(name, token if isinstance(token, str) else "", scopes[0] if scopes else "")
    return None


def classify(utterance: str) -> str:
    """ACCEPTED, DENIED or NOT_ANSWERED for what the user said to Alexa's consent question."""
    said = normalize(utterance)
    if said in APPROVE or said in {normalize(p) for p in BUILTIN_PHRASES["AMAZON.YesIntent"]}:
        return "ACCEPTED"
    if said in REFUSE or said in {normalize(p) for p in BUILTIN_PHRASES["AMAZON.NoIntent"]}:
        return "DENIED"
    return "NOT_ANSWERED"


class AlexaSide:
    """The simulated user's permissions, the local Alexa API, and the consent dialog."""

    def __init__(self, api: AlexaApi, permissions: str = "ask", skill_name: str = "this skill",
                 time_zone: str | None = None) -> None:
        if permissions not in PERMISSION_STATES:
            raise ValueError(f"permissions must be one of {', '.join(PERMISSION_STATES)}")
        self.api = api
        self.permissions = permissions
        self.skill_name = skill_name
        self.time_zone = time_zone   # this device's own zone; None: the API's default

    @property
    def granted(self) -> bool:
        return self.permissions == "granted"

    def prepare(self, envelope: dict[str, Any], user_id: str) -> None:
        """Point the envelope at the local API, with a token (and permissions) for this user."""
        system = envelope.get("context", {}).get("System", {})
        system["apiEndpoint"] = self.api.endpoint
        system["apiAccessToken"] = self.api.token(user_key(user_id), self.granted)
        device_id = (system.get("device") or {}).get("deviceId")
        if self.time_zone and device_id:
            self.api.set_time_zone(device_id, self.time_zone)
        users = [system.get("user"), (envelope.get("session") or {}).get("user")]
        for user in filter(None, users):
            if self.granted:
                user["permissions"] = {"consentToken": f"simulator.consent.{user_key(user_id)}",
                                       "scopes": {REMINDERS_SCOPE: {"status": "GRANTED"}}}
            else:
                user.pop("permissions", None)

    def question(self) -> str:
        return QUESTION.format(skill=self.skill_name)

    def immediate_answer(self) -> str | None:
        """What Alexa answers without asking: the user already decided, or None to ask."""
        return {"granted": "ACCEPTED", "denied": "DENIED"}.get(self.permissions)

    def take_reminders(self, user_id: str) -> list[dict[str, Any]]:
        return self.api.take(user_key(user_id))


def answer_request(pending: PendingConsent, status: str, locale: str, timestamp: str) -> dict[str, Any]:
    """The request Alexa sends back to the skill with the user's answer (no envelope)."""
    common = {"requestId": f"amzn1.echo-api.request.{uuid.uuid4()}", "timestamp": timestamp, "locale": locale}
    ok = {"code": "200", "message": "OK"}
    if pending.kind == ASK_FOR:
        return {"type": "Connections.Response", **common, "name": ASK_FOR, "status": ok,
                "token": pending.token, "payload": {"permissionScope": pending.scope, "status": status}}
    return {"type": "SessionResumedRequest", **common,
            "cause": {"type": "ConnectionCompleted", "token": pending.token, "status": ok,
                      "result": {"status": status,
                                 "permissionScopes": [{"permissionScope": pending.scope,
                                                       "consentLevel": "ACCOUNT"}]}}}
