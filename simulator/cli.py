"""Command line: `python -m simulator [options] [UTTERANCE ...]`.

With utterances: one conversation, printed turn by turn.  Without: an
interactive prompt.  main() takes an optional handler so tests (and other
tools) can drive the CLI without importing the real skill.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TextIO

from .alexa_api import AlexaApi, parse_status
from .client import (MODEL_DIR, Conversation, HttpTarget, InProcessTarget, TargetError, Turn, endpoint_url,
                     load_handler, match_locale, model_locales)
from .consent import PERMISSION_STATES, AlexaSide
from .invocation import parse_invocation
from .nlu import FUZZY_THRESHOLD, InteractionModel, ModelError
from .normalize import normalize
from .speech import SpeechError, find_espeak, markup, speak
from .ssml import pace

HISTORY_FILE = Path.home() / ".alexa_simulator_history"
COMMANDS = {
    ".help": "list these commands",
    ".json": "toggle showing the raw request and response",
    ".quit": "leave (also .exit, Ctrl-D; Ctrl-C clears the line)",
    ".launch": "send a LaunchRequest in a new session",
    ".end": "end the session (SessionEndedRequest USER_INITIATED)",
    ".silence": "say nothing: Alexa reprompts, then ends the session",
    ".intent NAME [slot=value ...]": "send an intent directly, bypassing the NLU",
    ".why TEXT": "show how the NLU ranks intents for TEXT",
    ".canfulfill TEXT": "send a CanFulfillIntentRequest for TEXT",
    ".session": "show the session id and attributes",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulator",
                                     description="Talk to an Alexa skill locally, as Alexa would.")
    parser.add_argument("utterances", nargs="*", metavar="UTTERANCE",
                        help="what the user says, one turn each (none: interactive prompt)")
    parser.add_argument("--locale", default="en-US", help="request locale and model to load (default en-US)")
    parser.add_argument("--model", type=Path, help="interaction model JSON (default interaction_model/<locale>.json)")
    parser.add_argument("--url", help="POST requests to this skill endpoint instead of calling it in-process")
    parser.add_argument("--handler", default="lambda_handler:handler",
                        help="in-process handler as module:function (default lambda_handler:handler)")
    parser.add_argument("--skill-id", default=(os.environ.get("SKILL_ID", "").split(",")[0].strip() or None),
                        help="application id to send (default: first id in $SKILL_ID, "
                             "else amzn1.ask.skill.simulator)")
    parser.add_argument("--threshold", type=_threshold, default=FUZZY_THRESHOLD,
                        help=f"fuzzy match threshold 0-100 (default {FUZZY_THRESHOLD:g})")
    parser.add_argument("--one-shot", action="store_true",
                        help='send the first utterance as "ask <invocation name> ...", with no launch')
    parser.add_argument("--json", action="store_true", help="print one JSON record per turn")
    parser.add_argument("--speak", action="store_true", help="speak each answer with espeak-ng")
    parser.add_argument("--wav", type=Path, metavar="DIR", help="write each answer to DIR/turn-NN.wav")
    alexa = parser.add_argument_group("Alexa's side (permissions and the local Alexa API on loopback)")
    alexa.add_argument("--permissions", choices=PERMISSION_STATES, default="ask",
                       help="the user's reminders permission: ask (Alexa asks by voice when the skill "
                            "requests it), granted, or denied (default ask)")
    alexa.add_argument("--time-zone", default="UTC", metavar="ZONE",
                       help="the device's time zone, an IANA name such as America/Chicago (default UTC)")
    alexa.add_argument("--reminders-status", type=_status, metavar="CODE",
                       help="make POST /v1/alerts/reminders answer with this HTTP status, or "
                            "'timeout' (never answer in time) or 'unsupported' (a device without reminders)")
    alexa.add_argument("--now", type=_instant, metavar="ISO",
                       help="the time in request timestamps, e.g. 2026-03-07T18:00:00Z (default: now)")
    return parser


def _threshold(text: str) -> float:
    """A fuzzy score from 0 (anything reaches some intent) to 100 (exact samples only)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 100:   # NaN fails too
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a score from 0 to 100 (default {FUZZY_THRESHOLD:g}; 100: exact samples only)")
    return value


def _status(text: str) -> int | str:
    try:
        return parse_status(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class _Printer:
    """Renders turns for people (or as JSON lines) and plays them if asked."""

    def __init__(self, out: TextIO, err: TextIO, args: argparse.Namespace) -> None:
        self.out, self.err, self.args = out, err, args
        self.raw = False
        self.count = 0
        self.pace = 100   # percent of normal speed of the last reply
        color = hasattr(out, "isatty") and out.isatty() and "NO_COLOR" not in os.environ
        self.dim = (lambda s: f"\033[2m{s}\033[0m") if color else (lambda s: s)

    def turn(self, turn: Turn, echo: bool) -> None:
        self.count += 1
        if self.args.json:
            print(json.dumps(turn.record(), ensure_ascii=False), file=self.out, flush=True)
        else:
            self._human(turn, echo)
        self._audio(turn)

    def _human(self, turn: Turn, echo: bool) -> None:
        p = lambda s="": print(s, file=self.out)  # noqa: E731
        if echo and turn.utterance is not None:
            p(f"> {turn.utterance}")
        if self.raw and turn.request is not None:
            p(self.dim(json.dumps(turn.request, indent=2)))
        if turn.request_type:
            p(self.dim(f"  [{_label(turn)}]"))
        for note in turn.notes:
            p(self.dim(f"  ! {note}"))
        if self.raw and turn.response is not None:
            p(self.dim(json.dumps(turn.response, indent=2)))
        if turn.speech:
            p(f"Alexa: {turn.speech}")
            if pace(turn.ssml) != self.pace:
                self.pace = pace(turn.ssml)
                p(self.dim(f"  [pace changed: speaking at {self.pace}%]"))
        if turn.reprompt:
            p(self.dim(f"  (reprompt: {turn.reprompt})"))
        for reminder in turn.reminders:
            p(self.dim(f"  [reminder set: {reminder['text']} | {reminder['scheduled']} {reminder['time_zone']}]"))
        if turn.card:
            content = " ".join(str(turn.card["content"]).split())
            p(self.dim(f"  [card: {turn.card['title']} | {content[:160]}{'...' if len(content) > 160 else ''}]"))
        if turn.end_session and turn.request_type:
            p(self.dim("  [session ended]"))
        self.out.flush()

    def _audio(self, turn: Turn) -> None:
        if not (self.args.speak or self.args.wav) or not turn.speech:
            return
        wav = self.args.wav / f"turn-{self.count:02d}.wav" if self.args.wav else None
        try:
            speak(markup(turn.ssml, turn.speech), self.args.locale, wav=wav)
        except SpeechError as exc:
            if wav is None:   # say it once, with the way out, then stop trying
                self.args.speak = False
                print(f"error: {exc} To hear the answers, write them to files with --wav DIR.", file=self.err)
            else:
                print(f"error: {exc}", file=self.err)
            return
        if wav is not None:   # stdout stays JSON lines under --json
            print(self.dim(f"  [wrote {wav}]"), file=self.err if self.args.json else self.out, flush=True)

    def why(self, model: InteractionModel, text: str) -> None:
        """The resolution, then every intent's score on the very words it scored (reworded, or one part)."""
        resolution = model.resolve(text)
        reading = resolution.reading or text
        # A fallback's score is only a bound (resolve stops scoring what cannot reach the threshold):
        # the list below has the real best.
        score = "no intent reached" if resolution.kind in ("fallback", "none") else f"{resolution.score:g},"
        details = {"statistical": "no sample matched well, the whole story read by its words",
                   "whole": "a clause matched another intent, but the whole, read by its words, points here"}
        detail = details.get(resolution.kind, f"{score} threshold {model.threshold:g}")
        print(f"  {resolution.kind}: {resolution.intent} ({detail})", file=self.out)
        if resolution.reading is not None and resolution.reading != normalize(text):
            print(f"  scored as: {resolution.reading!r}", file=self.out)
        for candidate in model.rank(reading, limit=8, said_mood=resolution.reading_mood):
            print(self.dim(f"  {candidate.score:6.2f}  {candidate.intent}  <- {candidate.sample!r}"), file=self.out)


def _label(turn: Turn) -> str:
    if turn.request_type != "IntentRequest" or not turn.intent:
        return turn.request_type or ""
    parts = [turn.intent]
    for name, value in turn.slots.items():
        if isinstance(value, dict):
            shown = value["value"] if value["name"] == value["value"] else f"{value['value']}->{value['name']}"
            parts.append(f"{name}={shown}")
        else:
            parts.append(f"{name}={value}")
    resolution = turn.resolution
    if resolution is not None and resolution.kind in ("fuzzy", "statistical", "whole", "fallback"):
        parts.append(f"({resolution.kind} {resolution.score:g})")
    return " ".join(parts)


def _command(line: str, conv: Conversation, printer: _Printer) -> Turn | bool | None:
    """Run a dot command; a Turn to show, None when done, False to quit."""
    name, _, rest = line.partition(" ")
    rest = rest.strip()
    if name in (".quit", ".exit"):
        return False
    if name == ".help":
        for usage, text in COMMANDS.items():
            print(f"  {usage:32} {text}", file=printer.out)
        print("  anything else is said to Alexa", file=printer.out)
        return None
    if name == ".json":
        printer.raw = not printer.raw
        print(f"  raw request/response {'on' if printer.raw else 'off'}", file=printer.out)
        return None
    if name == ".session":
        session = conv.session
        print(f"  {json.dumps({'sessionId': session.info.session_id, 'attributes': session.info.attributes})}"
              if session else "  no open session", file=printer.out)
        return None
    if name == ".why" and rest:
        printer.why(conv.model, rest)
        return None
    if name == ".launch":
        return conv.launch()
    if name == ".end":
        return conv.end()
    if name == ".silence":
        return conv.silence()
    if name == ".canfulfill" and rest:
        return conv.can_fulfill(rest)
    if name == ".intent" and rest:
        words = shlex.split(rest)
        values = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        return conv.intent(words[0], values)
    print(f"  unknown command {line!r}; .help lists them", file=printer.out)
    return None


def _step(line: str, conv: Conversation, printer: _Printer, echo: bool) -> bool:
    """Handle one input line; False means quit."""
    line = line.strip()
    if not line:
        return True
    result: Turn | bool | None = _command(line, conv, printer) if line.startswith(".") else conv.say(line)
    if result is False:
        return False
    if isinstance(result, Turn):
        if echo and line.startswith(".") and result.utterance is None:
            result.utterance = line
        printer.turn(result, echo)
    return True


def _interactive(conv: Conversation, printer: _Printer) -> int:
    try:
        import readline
    except ImportError:  # pragma: no cover - platform without readline
        readline = None  # type: ignore[assignment]
    if readline is not None:
        try:
            readline.read_history_file(HISTORY_FILE)
        except OSError:
            pass
        readline.set_history_length(1000)
    print(f"Alexa simulator: skill \"{conv.model.invocation_name}\" ({conv.locale}). "
          f"Say \"open {conv.model.invocation_name}\" or ask a question; .help lists commands, Ctrl-D leaves.",
          file=printer.out)
    try:
        while True:
            try:
                line = input("> ")
            except EOFError:   # Ctrl-D leaves
                print(file=printer.out)
                return 0
            except KeyboardInterrupt:   # Ctrl-C drops what was typed, as a shell does
                print(file=printer.out)
                continue
            try:
                if not _step(line, conv, printer, echo=False):
                    return 0
            except TargetError as exc:
                print(f"error: {exc}", file=printer.err)
                if exc.detail:
                    print(printer.dim(exc.detail.rstrip()), file=printer.err)
            except KeyboardInterrupt:
                print(file=printer.out)
    finally:
        if readline is not None:
            try:
                readline.write_history_file(HISTORY_FILE)
            except OSError:
                pass


def _locale(name: str, custom_model: bool) -> str:
    """The locale as the models spell it; an unknown one lists those there are (any goes with --model)."""
    known = model_locales()
    found = match_locale(name, known)
    if found or custom_model:
        return found or name
    raise ModelError(f"unknown locale {name!r}; use one of: {', '.join(known)} (or --model PATH)")


def main(argv: list[str] | None = None, *, handler: Callable[[dict, Any], dict] | None = None,
         stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the CLI; handler replaces the in-process skill (the test seam)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        args.locale = _locale(args.locale, custom_model=args.model is not None)
        model_path = args.model or MODEL_DIR / f"{args.locale}.json"
        if args.speak or args.wav:
            find_espeak()
        if args.wav:
            args.wav.mkdir(parents=True, exist_ok=True)
        if not model_path.is_file():
            raise ModelError(f"no interaction model at {model_path} (use --model PATH)")
        model = InteractionModel.load(model_path, threshold=args.threshold)
        if args.url:
            url = endpoint_url(args.url)
            if url != args.url.strip():
                print(f"note: using --url {url}", file=err)
            target: Callable[[dict], dict] = HttpTarget(url)
        else:
            target = InProcessTarget(handler or load_handler(args.handler))
    except (SpeechError, ModelError, TargetError, OSError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    printer = _Printer(out, err, args)
    for warning in model.warnings:
        print(printer.dim(f"model warning: {warning}"), file=err)
    clock = (lambda: args.now) if args.now else None
    try:
        api = AlexaApi(time_zone=args.time_zone, reminders_status=args.reminders_status, clock=clock)
    except ValueError as exc:
        print(f"error: {exc}", file=err)
        return 2
    alexa = AlexaSide(api, args.permissions, model.invocation_name.title())
    conv = Conversation(model, target, locale=args.locale, skill_id=args.skill_id, alexa=alexa, clock=clock)
    try:
        with api:
            return _run(args, conv, printer, model, err)
    except BrokenPipeError:
        return _reader_left(out)


def _reader_left(out: TextIO) -> int:
    """The reader of our output left (``| head``): stop quietly, as a shell tool killed by SIGPIPE does.

    Python ignores SIGPIPE, so the write raises instead; stdout is pointed at
    /dev/null so the final flush at exit cannot raise again.
    """
    if out is sys.stdout:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):   # no real file descriptor: nothing left to flush anyway
            pass
    return 128 + 13   # 141, what a shell reports for a tool ended by SIGPIPE


def _run(args: argparse.Namespace, conv: Conversation, printer: _Printer, model: InteractionModel,
         err: TextIO) -> int:
    if not args.utterances:
        return _interactive(conv, printer)
    if args.one_shot:
        args.utterances[0] = f"ask {model.invocation_name} {args.utterances[0]}"
    try:
        first = args.utterances[0]
        if parse_invocation(first, model.invocation_name).kind not in ("launch", "oneshot"):
            printer.turn(conv.launch(), echo=True)
        for line in args.utterances:
            _step(line, conv, printer, echo=True)
    except TargetError as exc:
        print(f"error: {exc}", file=err)
        if exc.detail:
            print(exc.detail.rstrip(), file=err)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
