"""The browser simulator: a page and a JSON endpoint over the CLI's NLU and sessions.

Development only: simulator.devserver mounts this blueprint on the development webhook;
production never imports it.  ``GET /`` serves the page; ``POST
/simulator/turn`` takes ``{"utterance", "locale", "time_zone", "session"}`` and answers the
turn record (``client.RECORD_KEYS``) plus ``request``, ``response``, ``notes``,
``session`` and ``view`` (how the page shows and speaks the reply, see
``page_view``).  The server keeps no conversation memory: ``session`` is the
state from ``Conversation.state()`` (user, device, session id, new-flag,
attributes) and the page sends it back with the next utterance, the way Alexa
carries session attributes. ``time_zone`` (an IANA name; the page offers the
browser's own first) is the simulated device's zone, which the local Alexa API
answers the skill with, so a reminder is set in local time.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any, Callable

from flask import Blueprint, Response, jsonify, render_template, request

from skill.content import CONTENT
from skill.replies import emergency
from skill.speech import plain_text

from ..alexa_api import AlexaApi, valid_time_zone
from ..client import MODEL_DIR, Conversation, InProcessTarget, TargetError, Turn, match_locale, model_locales
from ..consent import AlexaSide
from ..nlu import InteractionModel
from ..ssml import pace, to_segments

__all__ = ["DEFAULT_LOCALE", "MAX_UTTERANCE", "MODEL_DIR", "TIME_ZONES", "create_blueprint", "load_model",
           "page_view", "written"]

DEFAULT_LOCALE = "en-US"
DEFAULT_TIME_ZONE = "UTC"
MAX_UTTERANCE = 500
# The time-zone choices the page lists (the browser's own zone is added first when missing):
# a few for each market the skill serves.
TIME_ZONES = ("UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
              "America/Toronto", "America/Vancouver", "Europe/London", "Asia/Kolkata", "Australia/Perth",
              "Australia/Adelaide", "Australia/Sydney")
# The page loads only its own files and talks only to its own server.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
               "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@cache
def load_model(path: Path) -> InteractionModel:
    """Each model file is compiled once per process."""
    return InteractionModel.load(path)


def written(text: str, locale: str) -> str:
    """Speech as a screen shows it: the locale's emergency and crisis numbers in digits, its
    emergency department as written ("call nine one one" -> "call 911", "A and E" -> "A&E")."""
    info = CONTENT.locale(locale)
    for said, shown in ((info.emergency_spoken, info.emergency_number), (info.crisis_spoken, info.crisis_number),
                        (info.emergency_department, info.emergency_department_written)):
        text = re.sub(rf"\b{re.escape(said)}\b", shown, text)
    return text


def page_view(turn: Turn, locale: str) -> dict[str, Any]:
    """How the page shows and speaks a reply.

    ``text``: the words to read, as written (the emergency reply as its card has
    it; in every other reply, the safety net's and the crisis line's numbers in
    digits, where speech spells them out: see ``written``); ``urgent``: the
    skill's emergency reply, which the page announces as an alert; ``pace``:
    percent of normal speed; ``speak``: browser utterances from the SSML
    (``ssml.to_segments``), so "say that slower" is slower in the page too.
    """
    alarms = [emergency(locale), emergency(locale, asked_to_call=True)]
    alarm = next((a for a in alarms if turn.speech and turn.speech == plain_text(a.speech)), None)
    urgent = alarm is not None
    if alarm is not None and alarm.card:
        text = alarm.card.content
    else:
        text = written(turn.speech, locale) if turn.speech else turn.speech
    speak = to_segments(turn.ssml) or ([{"text": turn.speech, "rate": 1.0, "pause_ms": 0}] if turn.speech else [])
    return {"text": text, "urgent": urgent, "pace": pace(turn.ssml) if turn.speech else None, "speak": speak}


def _locales(model_dir: Path) -> tuple[str, ...]:
    return tuple(sorted(model_locales(model_dir), key=lambda locale: locale != DEFAULT_LOCALE))


class _Refused(Exception):
    """Input we answer with HTTP 400; the message never echoes what was sent."""


def _turn_input(locales: tuple[str, ...]) -> tuple[str, str, str, Any]:
    if not request.is_json:
        raise _Refused("send a JSON object with content-type application/json")
    try:
        data = json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):
        raise _Refused("body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _Refused("body is not a JSON object")
    utterance = data.get("utterance")
    if not isinstance(utterance, str) or not utterance.strip():
        raise _Refused("utterance is required: what the user says, as text")
    if len(utterance) > MAX_UTTERANCE:
        raise _Refused(f"utterance is longer than {MAX_UTTERANCE} characters")
    locale = data.get("locale", DEFAULT_LOCALE)
    locale = match_locale(locale, locales) if isinstance(locale, str) else None   # any case, as the CLI
    if locale is None:
        raise _Refused(f"unknown locale; use one of {', '.join(locales)}")
    zone = data.get("time_zone", DEFAULT_TIME_ZONE)
    if not isinstance(zone, str) or not valid_time_zone(zone):
        raise _Refused("unknown time_zone; use an IANA name such as America/Chicago")
    return utterance, locale, zone, data.get("session")


def create_blueprint(invoke: Callable[[dict[str, Any]], dict[str, Any]], *, skill_id: str | None = None,
                     model_dir: Path = MODEL_DIR) -> Blueprint:
    """The page and endpoint, talking to ``invoke`` (request envelope -> response envelope)."""
    locales = _locales(model_dir)
    target = InProcessTarget(lambda envelope, _context: invoke(envelope))
    # Alexa's API on loopback for the skill's reminder calls; each page's permission
    # state travels in its session state, like everything else.
    alexa_api = AlexaApi()
    blueprint = Blueprint("simulator", __name__, static_folder="static",
                          static_url_path="/simulator/static", template_folder="templates")

    def model(locale: str) -> InteractionModel:
        return load_model(model_dir / f"{locale}.json")

    @blueprint.get("/")
    def page() -> Response:
        invocation = model(DEFAULT_LOCALE if DEFAULT_LOCALE in locales else locales[0]).invocation_name
        disclaimers = {locale: CONTENT.written_disclaimer(locale) for locale in locales}
        html = render_template("simulator/index.html", locales=locales, default_locale=locales[0],
                               invocation_name=invocation, max_utterance=MAX_UTTERANCE, time_zones=TIME_ZONES,
                               disclaimer=disclaimers[locales[0]], disclaimers=json.dumps(disclaimers))
        return Response(html, mimetype="text/html", headers={"Content-Security-Policy": PAGE_POLICY})

    @blueprint.post("/simulator/turn")
    def turn() -> tuple[Response, int]:
        try:
            utterance, locale, zone, state = _turn_input(locales)
            alexa = AlexaSide(alexa_api, "ask", model(locale).invocation_name.title(), time_zone=zone)
            conversation = Conversation(model(locale), target, locale=locale, skill_id=skill_id, alexa=alexa)
            try:
                conversation.restore(state)
            except ValueError as exc:
                raise _Refused(f"bad session state: {exc}") from None
        except _Refused as exc:
            return jsonify(error=str(exc)), 400
        try:
            said = conversation.say(utterance)
        except TargetError as exc:   # the skill failed, not the caller
            return jsonify(error=str(exc)), 502
        return jsonify({**said.record(), "request": said.request, "response": said.response,
                        "notes": said.notes, "alexa_prompt": said.alexa_prompt,
                        "session": conversation.state(), "view": page_view(said, locale)}), 200

    return blueprint
