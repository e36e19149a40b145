"""Conversations with a skill: sessions, targets, and one record per turn.

A Conversation plays Alexa's part between turns: it keeps the session id and
the attributes the skill returned, closes the session when the skill says so,
and starts the next utterance in a new session (one-shot) unless it is an
invocation form.  Targets are plain callables envelope -> response dict, so
tests can plug in any fake.
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import requests

from skill.speech import MAX_SPEECH_CHARS, plain_text

from . import envelopes
from .consent import PERMISSION_STATES, AlexaSide, PendingConsent, answer_request, classify, consent_asked
from .invocation import parse_invocation
from .nlu import InteractionModel, Resolution

__all__ = [
    "Conversation", "Turn", "TargetError", "InProcessTarget", "HttpTarget", "load_handler",
    "REPO_ROOT", "MODEL_DIR", "RECORD_KEYS", "MAX_STATE_ID", "model_locales", "match_locale", "endpoint_url",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = REPO_ROOT / "interaction_model"
ENDPOINT_PATH = "/alexa"   # where the webhook takes requests
RECORD_KEYS = ("utterance", "request_type", "intent", "slots", "speech", "ssml", "reprompt",
               "card", "end_session", "directives", "reminders")
MAX_STATE_ID = 256   # longest user, device or session id restore() accepts
Handler = Callable[[dict, Any], dict]
Target = Callable[[dict], dict]


class TargetError(RuntimeError):
    """The skill could not be reached or answered badly; str() is one line."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class _LambdaContext:
    """Enough of AWS Lambda's context object for skills that peek at it."""

    function_name = "alexa-simulator"
    aws_request_id = "simulator"
    memory_limit_in_mb = 512

    def get_remaining_time_in_millis(self) -> int:
        return 8000


class InProcessTarget:
    """Calls handler(event, context) directly, with JSON round trips like the wire."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def __call__(self, envelope: dict) -> dict:
        try:
            response = self.handler(json.loads(json.dumps(envelope)), _LambdaContext())
        except Exception as exc:  # the skill's own bug: report it, keep the simulator alive
            raise TargetError(f"skill raised {type(exc).__name__}: {exc}", traceback.format_exc()) from exc
        try:
            return json.loads(json.dumps(response))
        except (TypeError, ValueError) as exc:
            raise TargetError(f"skill returned something that is not JSON: {exc}") from None


def model_locales(model_dir: Path = MODEL_DIR) -> tuple[str, ...]:
    """The locales that have an interaction model, sorted."""
    return tuple(sorted(path.stem for path in model_dir.glob("*.json")))


def match_locale(name: str, known: tuple[str, ...]) -> str | None:
    """``name`` as spelled in ``known``, ignoring case and ``_`` for ``-`` (en-gb, en_GB -> en-GB)."""
    wanted = name.strip().replace("_", "-").lower()
    return next((locale for locale in known if locale.lower() == wanted), None)


def endpoint_url(url: str) -> str:
    """An endpoint URL with its scheme: ``localhost:5000/alexa`` becomes ``http://localhost:5000/alexa``."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TargetError(f"--url must be an http:// or https:// address, such as "
                          f"http://127.0.0.1:5000{ENDPOINT_PATH}")
    return url


class HttpTarget:
    """POSTs the envelope as JSON to a running skill endpoint."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = endpoint_url(url)
        self.timeout = timeout
        self._http = requests.Session()

    def __call__(self, envelope: dict) -> dict:
        try:
            reply = self._http.post(self.url, json=envelope, timeout=self.timeout)
        except requests.ConnectionError:
            raise TargetError(f"cannot reach {self.url}: connection refused (is the skill server running?)") from None
        except requests.Timeout:
            raise TargetError(f"{self.url} did not answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise TargetError(f"request to {self.url} failed: {exc}") from None
        if reply.status_code != 200:
            body = " ".join(reply.text.split())[:200]
            raise TargetError(f"{self.url} answered HTTP {reply.status_code} {reply.reason}: {body}"
                              f"{self._path_hint(reply.status_code)}")
        try:
            data = reply.json()
        except ValueError:
            raise TargetError(f"{self.url} answered HTTP 200 with a body that is not JSON") from None
        if not isinstance(data, dict):
            raise TargetError(f"{self.url} answered JSON that is not an object")
        return data

    def _path_hint(self, status: int) -> str:
        """A wrong path (404, or 405 from a page that takes no POST) names the endpoint's path."""
        parts = urlsplit(self.url)
        if status not in (404, 405) or parts.path.rstrip("/") == ENDPOINT_PATH:
            return ""
        return f" (the skill takes POST at {ENDPOINT_PATH}: try --url {parts.scheme}://{parts.netloc}{ENDPOINT_PATH})"


def load_handler(spec: str = "lambda_handler:handler", root: Path = REPO_ROOT) -> Handler:
    """Import module:function lazily, with the repo root importable."""
    module_name, _, attr = spec.partition(":")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetError(f"cannot import {module_name} ({exc}); pass --url or --handler") from None
    handler = getattr(module, attr or "handler", None)
    if not callable(handler):
        raise TargetError(f"{module_name} has no callable {attr or 'handler'}")
    return handler


@dataclass
class Turn:
    """One exchange: what was said, what was sent, what Alexa would say back."""

    utterance: str | None
    request_type: str | None = None
    intent: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    speech: str = ""
    ssml: str | None = None
    reprompt: str | None = None
    card: dict[str, Any] | None = None
    end_session: bool = False
    request: dict | None = None
    response: dict | None = None
    resolution: Resolution | None = None
    notes: list[str] = field(default_factory=list)
    directives: list[str] = field(default_factory=list)       # types, in the order sent
    reminders: list[dict[str, Any]] = field(default_factory=list)   # accepted by the local Alexa API
    alexa_prompt: str | None = None    # what Alexa itself asked (a consent question), not the skill

    def record(self) -> dict[str, Any]:
        """The public per-turn record (exactly RECORD_KEYS)."""
        return {key: getattr(self, key) for key in RECORD_KEYS}


def _speech(output: dict | None) -> tuple[str, str | None]:
    if not output:
        return "", None
    if output.get("type") == "SSML":
        return plain_text(output.get("ssml")), output.get("ssml")
    return " ".join(str(output.get("text", "")).split()), None


def _slot_summary(slots: dict[str, dict]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for name, slot in slots.items():
        if "value" not in slot:
            continue
        per = slot.get("resolutions", {}).get("resolutionsPerAuthority", [])
        values = per[0].get("values", []) if per else []
        if values:
            summary[name] = {"value": slot["value"], "name": values[0]["value"]["name"],
                             "id": values[0]["value"].get("id")}
        else:
            summary[name] = slot["value"]
    return summary


_JSON_KINDS = {bool: "true or false", int: "a number", str: "a string", list: "an array",
               dict: "an object"}


def _state_id(state: Mapping[str, Any], key: str) -> str | None:
    value = state.get(key)
    if value is not None and (not isinstance(value, str) or not value or len(value) > MAX_STATE_ID):
        raise ValueError(f"{key} must be a non-empty string of at most {MAX_STATE_ID} characters")
    return value


def _state_field(state: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = state.get(key)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise ValueError(f"{key} must be {_JSON_KINDS[kind]}")
    return value


@dataclass
class _Session:
    info: envelopes.SessionInfo = field(default_factory=envelopes.SessionInfo)
    elicit: tuple[str, str, dict] | None = None      # (intent, slot, slots so far)
    dialog_intent: str | None = None
    reprompt_ssml: tuple[str, str | None] | None = None
    silences: int = 0
    consent: PendingConsent | None = None             # Alexa asked; the next utterance answers


class Conversation:
    """Talks to one skill the way Alexa would, turn by turn."""

    def __init__(self, model: InteractionModel, target: Target, *, locale: str = "en-US",
                 skill_id: str | None = None, alexa: AlexaSide | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.model = model
        self.target = target
        self.locale = locale
        self.identity = envelopes.Identity(skill_id=skill_id)
        self.session: _Session | None = None
        self.alexa = alexa      # permissions, consent and the local Alexa API; None: none of that
        self.clock = clock      # what "now" is in request timestamps; None: the real clock

    @property
    def skill_id(self) -> str | None:
        return self.identity.skill_id

    # ------------------------------------------------------------ client-held state
    def state(self) -> dict[str, Any]:
        """The conversation as JSON-ready data, for restore() on a later turn.

        Lets a stateless server (the browser simulator) hand the conversation to
        its client between turns, the way Alexa carries session attributes.
        ``session_id`` is None when no session is open.
        """
        state: dict[str, Any] = {"user_id": self.identity.user_id, "device_id": self.identity.device_id,
                                 "session_id": None}
        session = self.session
        if session is not None:
            state.update(session_id=session.info.session_id, new=session.info.new,
                         attributes=session.info.attributes,
                         elicit=list(session.elicit) if session.elicit else None,
                         dialog_intent=session.dialog_intent,
                         reprompt=list(session.reprompt_ssml) if session.reprompt_ssml else None,
                         silences=session.silences,
                         consent=session.consent.state() if session.consent else None)
        if self.alexa is not None:
            state["permissions"] = self.alexa.permissions
        return state

    def restore(self, state: Mapping[str, Any] | None) -> None:
        """Carry on from a state() snapshot (None or {}: a fresh start).

        The snapshot may come from an untrusted client, so every field is checked
        before it can reach an envelope: ValueError says which one is wrong.
        Missing ids are generated; a missing session_id means no open session.
        """
        if state is None:
            state = {}
        if not isinstance(state, Mapping):
            raise ValueError("state is not an object")
        for key in ("user_id", "device_id"):
            value = _state_id(state, key)
            if value is not None:
                setattr(self.identity, key, value)
        permissions = _state_field(state, "permissions", str, None)
        if permissions is not None and self.alexa is not None:
            if permissions not in PERMISSION_STATES:
                raise ValueError(f"permissions must be one of {', '.join(PERMISSION_STATES)}")
            self.alexa.permissions = permissions
        session_id = _state_id(state, "session_id")
        if session_id is None:
            self.session = None
            return
        info = envelopes.SessionInfo(session_id=session_id, new=_state_field(state, "new", bool, True),
                                     attributes=dict(_state_field(state, "attributes", dict, {})))
        session = _Session(info, silences=_state_field(state, "silences", int, 0))
        if isinstance(state.get("silences"), bool) or session.silences < 0:
            raise ValueError("silences must be a count")
        dialog_intent = _state_field(state, "dialog_intent", str, None)
        if dialog_intent is not None and dialog_intent not in self.model.intent_slots:
            raise ValueError("dialog_intent is not an intent of the model")
        session.dialog_intent = dialog_intent
        reprompt = _state_field(state, "reprompt", list, None)
        if reprompt is not None:
            if (len(reprompt) != 2 or not isinstance(reprompt[0], str)
                    or not isinstance(reprompt[1], (str, type(None)))):
                raise ValueError("reprompt must be [plain text, SSML or null]")
            session.reprompt_ssml = (reprompt[0], reprompt[1])
        elicit = _state_field(state, "elicit", list, None)
        if elicit is not None:
            session.elicit = self._checked_elicit(elicit)
        consent = _state_field(state, "consent", list, None)
        if consent is not None:
            session.consent = PendingConsent.restore(consent)
        self.session = session

    def _checked_elicit(self, elicit: list) -> tuple[str, str, dict]:
        if len(elicit) != 3 or not all(isinstance(part, t) for part, t in zip(elicit, (str, str, dict), strict=True)):
            raise ValueError("elicit must be [intent, slot, {slot: slot object}]")
        intent, slot, slots = elicit
        declared = self.model.intent_slots.get(intent)
        if declared is None or slot not in declared:
            raise ValueError("elicit names a slot the model does not declare")
        for name, value in slots.items():
            if (name not in declared or not isinstance(value, dict) or value.get("name") != name
                    or not isinstance(value.get("value"), str)):
                raise ValueError("elicit holds a malformed slot")
            try:
                envelopes.build_slot(value)
            except Exception:
                raise ValueError("elicit holds a malformed slot") from None
        return intent, slot, dict(slots)

    # ------------------------------------------------------------ public turns
    def say(self, utterance: str) -> Turn:
        """One user utterance; invocation forms launch or one-shot, "exit" ends."""
        invocation = parse_invocation(utterance, self.model.invocation_name)
        if invocation.kind == "exit":
            if self.session is None:
                return Turn(utterance, notes=["no open session: nothing to exit"], end_session=True)
            return self.end("USER_INITIATED", utterance=utterance)
        if self.session is not None and self.session.consent is not None:
            return self._consent_answer(utterance, classify(utterance))
        if invocation.kind == "launch":
            return self.launch(utterance)
        if invocation.kind == "oneshot":
            self.session = _Session()
            return self._intent_turn(utterance, self.model.resolve_best(*invocation.rests, skill_id=self.skill_id))
        if self.session is None:
            self.session = _Session()
        elicit = self.session.elicit
        if elicit is not None:
            resolution = self.model.resolve_elicitation(elicit[0], elicit[1], utterance, skill_id=self.skill_id)
        else:
            resolution = self.model.resolve(utterance, skill_id=self.skill_id)
        return self._intent_turn(utterance, resolution)

    def launch(self, utterance: str | None = None) -> Turn:
        """LaunchRequest in a new session."""
        self.session = _Session()
        utterance = utterance or f"open {self.model.invocation_name}"
        envelope = envelopes.launch_request(self.identity, self.session.info, self.locale)
        return self._send(Turn(utterance, "LaunchRequest"), envelope)

    def intent(self, name: str, values: dict[str, str] | None = None) -> Turn:
        """Send an intent directly (no NLU), slot values resolved against the model."""
        if self.session is None:
            self.session = _Session()
        slots = self.model.make_slots(name, values or {}, skill_id=self.skill_id)
        return self._intent_turn(None, Resolution(name, slots, 100.0, "exact"))

    def end(self, reason: str = "USER_INITIATED", *, error: str | None = None,
            utterance: str | None = None) -> Turn:
        """SessionEndedRequest for the open session; the session is gone afterwards."""
        if self.session is None:
            return Turn(utterance, notes=["no open session"], end_session=True)
        envelope = envelopes.session_ended_request(self.identity, self.session.info, self.locale,
                                                   reason, error)
        try:
            return self._send(Turn(utterance, "SessionEndedRequest"), envelope)
        finally:
            self.session = None

    def silence(self) -> Turn:
        """The user says nothing: Alexa reprompts once, then ends the session."""
        if self.session is None:
            return Turn(None, notes=["no open session"], end_session=True)
        if self.session.consent is not None:
            return self._consent_answer(None, "NOT_ANSWERED")
        if self.session.reprompt_ssml and self.session.silences == 0:
            self.session.silences += 1
            plain, ssml = self.session.reprompt_ssml
            return Turn(None, speech=plain, ssml=ssml, notes=["no answer: Alexa speaks the reprompt"])
        return self.end("EXCEEDED_MAX_REPROMPTS")

    def can_fulfill(self, utterance: str) -> Turn:
        """CanFulfillIntentRequest for what the utterance resolves to; no session effect."""
        resolution = self.model.resolve(utterance, skill_id=self.skill_id)
        turn = Turn(utterance, "CanFulfillIntentRequest", resolution.intent,
                    _slot_summary(resolution.slots), resolution=resolution, end_session=True)
        if resolution.intent is None:
            turn.notes.append("no intent matched: Alexa would not ask the skill")
            return turn
        turn.request = envelopes.can_fulfill_intent_request(self.identity, self.locale, resolution.intent,
                                                            resolution.slots)
        turn.response = self.target(turn.request)
        verdict = (turn.response.get("response") or {}).get("canFulfillIntent")
        turn.notes.append(f"canFulfillIntent: {json.dumps(verdict)}")
        return turn

    # ------------------------------------------------------------ internals
    def _intent_turn(self, utterance: str | None, resolution: Resolution) -> Turn:
        assert self.session is not None
        turn = Turn(utterance, "IntentRequest", resolution.intent, resolution=resolution)
        if resolution.intent is None:
            turn.request_type = None
            turn.notes.append("no intent matched and the model declares no AMAZON.FallbackIntent: "
                              "Alexa would not call the skill")
            if self.session.info.new:
                self.session = None
            turn.end_session = self.session is None
            return turn
        slots = dict(resolution.slots)
        elicit = self.session.elicit
        if elicit is not None and elicit[0] == resolution.intent:
            slots = {**self.model.empty_slots(resolution.intent), **elicit[2],
                     **{k: v for k, v in slots.items() if "value" in v}}
        dialog_state = None
        if resolution.intent in self.model.dialog_intents:
            dialog_state = "IN_PROGRESS" if self.session.dialog_intent == resolution.intent else "STARTED"
        turn.slots = _slot_summary(slots)
        envelope = envelopes.intent_request(self.identity, self.session.info, self.locale, resolution.intent,
                                            slots, dialog_state=dialog_state)
        return self._send(turn, envelope)

    def _consent_answer(self, utterance: str | None, status: str) -> Turn:
        """The user's answer to Alexa's consent question goes back to the skill, not through the NLU."""
        assert self.session is not None and self.session.consent is not None and self.alexa is not None
        pending, self.session.consent = self.session.consent, None
        if status == "ACCEPTED":
            self.alexa.permissions = "granted"    # this and later requests carry the permission
        request = answer_request(pending, status, self.locale, envelopes.timestamp())
        turn = Turn(utterance, request["type"], notes=[f"Alexa's consent question answered: {status}"])
        return self._send(turn, envelopes.envelope_around(self.identity, self.session.info, request))

    def _send(self, turn: Turn, envelope: dict) -> Turn:
        assert self.session is not None
        session = self.session
        if self.clock is not None:
            envelope["request"]["timestamp"] = envelopes.timestamp(self.clock())
        if self.alexa is not None:
            self.alexa.prepare(envelope, self.identity.user_id)
        turn.request = envelope
        try:
            reply = self.target(envelope)
        except TargetError:
            self.session = None   # Alexa drops the session when the skill fails
            raise
        if not isinstance(reply, dict):
            self.session = None
            raise TargetError(f"skill returned {type(reply).__name__}, not a response object")
        turn.response = reply
        session.info.new = False
        session.silences = 0
        body = reply.get("response")
        if isinstance(reply.get("sessionAttributes"), dict):
            session.info.attributes = reply["sessionAttributes"]
        body = body if isinstance(body, dict) else {}
        turn.speech, turn.ssml = _speech(body.get("outputSpeech"))
        reprompt_plain, reprompt_ssml = _speech((body.get("reprompt") or {}).get("outputSpeech"))
        turn.reprompt = reprompt_plain or None
        session.reprompt_ssml = (reprompt_plain, reprompt_ssml) if reprompt_plain else None
        card = body.get("card")
        if isinstance(card, dict):
            turn.card = {"title": card.get("title") or card.get("type"),
                         "content": card.get("content") or card.get("text") or ""}
        directives = [d for d in body.get("directives") or [] if isinstance(d, dict)]
        turn.directives = [str(d.get("type", "")) for d in directives]
        self._dialog(session, turn, directives)
        should_end = body.get("shouldEndSession")
        # Dialog directives keep the session; a Connections request suspends it until Alexa answers.
        held = any(str(d.get("type", "")).startswith(("Dialog.", "Connections.")) for d in directives)
        turn.end_session = (turn.request_type == "SessionEndedRequest" or not body
                            or should_end is True or (should_end is None and not held))
        self._check(turn, body)
        if self.alexa is not None:
            turn.reminders = self.alexa.take_reminders(self.identity.user_id)
        if turn.end_session:
            self.session = None
        elif self.alexa is not None:
            pending = consent_asked(directives)
            if pending is not None:
                return self._consent_asked(turn, session, pending)
        return turn

    def _consent_asked(self, turn: Turn, session: _Session, pending: PendingConsent) -> Turn:
        """Alexa's part when the skill asks for a permission: ask the user, or answer at once."""
        assert self.alexa is not None
        decided = self.alexa.immediate_answer()
        if decided is None:
            question = self.alexa.question()
            session.consent = pending
            session.reprompt_ssml = (question, None)
            turn.alexa_prompt = question
            turn.speech = f"{turn.speech} {question}".strip()
            turn.notes.append("Alexa asks for the permission; your next words answer it")
            return turn
        turn.notes.append(f"permission already {self.alexa.permissions}: Alexa answers {decided} at once")
        request = answer_request(pending, decided, self.locale, envelopes.timestamp())
        follow = self._send(Turn(turn.utterance, request["type"]),
                            envelopes.envelope_around(self.identity, session.info, request))
        follow.notes[:0] = turn.notes
        follow.directives[:0] = turn.directives
        follow.reminders[:0] = turn.reminders
        return follow

    def _dialog(self, session: _Session, turn: Turn, directives: list[dict]) -> None:
        session.elicit, session.dialog_intent = None, None
        request_slots = (turn.request or {}).get("request", {}).get("intent", {}).get("slots", {})
        for directive in directives:
            kind = str(directive.get("type", ""))
            if not kind.startswith("Dialog."):
                continue
            updated = directive.get("updatedIntent") or {}
            intent = updated.get("name") or turn.intent
            session.dialog_intent = intent
            if kind == "Dialog.ElicitSlot" and intent and directive.get("slotToElicit"):
                slots = updated.get("slots") or request_slots
                session.elicit = (intent, directive["slotToElicit"],
                                  {k: v for k, v in slots.items() if isinstance(v, dict) and "value" in v})
            elif kind == "Dialog.Delegate":
                turn.notes.append("Dialog.Delegate: the simulator does not run the dialog model's prompts")

    @staticmethod
    def _check(turn: Turn, body: dict) -> None:
        """Notes for things Alexa would reject or that sound wrong."""
        ssml = turn.ssml or ""
        if ssml and not ssml.strip().startswith("<speak>"):
            turn.notes.append("outputSpeech SSML is not wrapped in <speak>: Alexa rejects it")
        if len(ssml or turn.speech) > MAX_SPEECH_CHARS:
            turn.notes.append(f"outputSpeech is {len(ssml or turn.speech)} characters (limit {MAX_SPEECH_CHARS})")
        if body.get("shouldEndSession") is False and not turn.reprompt:
            turn.notes.append("session kept open without a reprompt")
