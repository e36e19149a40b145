"""SSML for espeak-ng and for the browser page, so the simulator can play answers aloud.

Plain text for transcripts is the skill's own ``skill.speech.plain_text``.
"""

from __future__ import annotations

import html
import re

from skill.speech import spoken_markup

_TAG = re.compile(r"<(/?)([A-Za-z][\w:.-]*)([^>]*?)(/?)>")
_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_DIGITS = re.compile(r"<say-as\b[^>]*interpret-as\s*=\s*[\"'](?:digits|telephone)[\"'][^>]*>(.*?)</say-as>", re.S)
# Tags espeak-ng reads, with the attributes worth passing on.
_ESPEAK_KEEP = {"speak": (), "break": ("time", "strength"), "p": (), "s": (),
                "emphasis": ("level",), "prosody": ("rate",), "say-as": ("interpret-as",)}
_SPELL = {"characters", "spell-out", "letters"}


def _attrs(raw: str) -> dict[str, str]:
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) or ""
            for m in _ATTR.finditer(raw)}


def to_espeak(ssml: str) -> str:
    """SSML that espeak-ng -m can speak: Alexa-only tags unwrapped, prosody kept to rate."""
    text = _DIGITS.sub(lambda m: " ".join(re.sub(r"\D", "", m.group(1))) or m.group(1), spoken_markup(ssml))
    stack: list[tuple[str, bool]] = []

    def rewrite(m: re.Match[str]) -> str:
        closing, name, raw, selfclosing = m.group(1), m.group(2).lower(), m.group(3), m.group(4)
        if closing:
            while stack:
                opened, kept = stack.pop()
                if opened == name:
                    return f"</{name}>" if kept else ""
            return ""
        keep_attrs = _ESPEAK_KEEP.get(name)
        attrs = {k: v for k, v in _attrs(raw).items() if keep_attrs and k in keep_attrs}
        if name == "say-as":
            kind = attrs.get("interpret-as", "")
            attrs = {"interpret-as": "characters"} if kind in _SPELL else {}
        keep = keep_attrs is not None and (bool(attrs) or not keep_attrs)
        if not selfclosing:
            stack.append((name, keep))
        if not keep:
            return " " if name in ("break",) else ""
        rendered = "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in attrs.items())
        return f"<{name}{rendered}{'/' if selfclosing else ''}>"

    text = _TAG.sub(rewrite, text).strip()
    if not text.startswith("<speak"):
        text = f"<speak>{text}</speak>"
    return text


# --- speech in a browser -------------------------------------------------------
# The Web Speech API takes plain text, a rate and nothing else, so the SSML is
# cut into segments: a new one wherever the rate changes or a <break> asks for
# a pause (the page waits that long between utterances).
_PROSODY_OPEN = re.compile(r"^\s*<speak>\s*<prosody\b([^>]*)>", re.S)
_SAY_AS = re.compile(r"<say-as\b([^>]*)>(.*?)</say-as>", re.S)
_NAMED_RATES = {"x-slow": 50, "slow": 75, "medium": 100, "fast": 125, "x-fast": 150}
# Pause lengths for <break strength=...>, roughly as Alexa's documentation describes them.
_BREAK_STRENGTH_MS = {"none": 0, "x-weak": 0, "weak": 250, "medium": 400, "strong": 750, "x-strong": 1000}
_MAX_BREAK_MS = 10_000   # Alexa's own ceiling for one <break>
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$", re.I)


def rate_percent(value: str | None) -> int:
    """A prosody rate as a percentage of normal ("85%" -> 85, "slow" -> 75); 100 when absent or unreadable."""
    if not value:
        return 100
    value = value.strip().lower()
    if value in _NAMED_RATES:
        return _NAMED_RATES[value]
    match = re.fullmatch(r"(\d+(?:\.\d+)?)%", value)
    return round(float(match.group(1))) if match else 100


def pace(ssml: str | None) -> int:
    """How fast the whole reply is spoken, in percent of normal: the rate of a prosody wrapping all of it."""
    match = _PROSODY_OPEN.match(ssml or "")
    return rate_percent(_attrs(match.group(1)).get("rate")) if match else 100


def break_ms(attrs: dict[str, str]) -> int:
    """The pause a <break> asks for, in milliseconds (strength medium when it names none)."""
    duration = _DURATION.match(attrs.get("time", ""))
    if duration:
        amount = float(duration.group(1)) * (1000 if duration.group(2).lower() == "s" else 1)
        return min(round(amount), _MAX_BREAK_MS)
    return _BREAK_STRENGTH_MS.get(attrs.get("strength", "medium"), 400)


def _spelled(match: re.Match[str]) -> str:
    kind = _attrs(match.group(1)).get("interpret-as", "")
    inner = html.unescape(_TAG.sub("", match.group(2)))
    if kind in _SPELL:
        spelled = " ".join(ch for ch in inner if not ch.isspace())
    elif kind in ("digits", "telephone"):
        spelled = " ".join(re.sub(r"\D", "", inner)) or inner
    else:
        spelled = inner
    return html.escape(spelled, quote=False)


def _clean(parts: list[str]) -> str:
    text = " ".join(html.unescape(" ".join(parts)).split())
    return re.sub(r" ([,.;:!?])", r"\1", text)


def to_segments(ssml: str | None) -> list[dict[str, float | int | str]]:
    """The reply as browser utterances: ``{"text", "rate", "pause_ms"}``, the pause coming before the text.

    Aliases are spoken, ``say-as characters`` is spelled letter by letter
    ("P S A"), digits one by one; a prosody rate becomes the utterance rate
    (0.85 for "85%"), a <break> a pause.
    """
    if not ssml:
        return []
    text = _SAY_AS.sub(_spelled, spoken_markup(ssml))
    segments: list[dict[str, float | int | str]] = []
    rates, words = [100], []
    pause = 0

    def flush() -> None:
        nonlocal pause
        spoken = _clean(words)
        words.clear()
        if spoken:
            segments.append({"text": spoken, "rate": rates[-1] / 100, "pause_ms": pause})
            pause = 0

    position = 0
    for tag in _TAG.finditer(text):
        words.append(text[position:tag.start()])
        position = tag.end()
        closing, name, raw, selfclosing = tag.group(1), tag.group(2).lower(), tag.group(3), tag.group(4)
        if name == "break":
            flush()
            pause += break_ms(_attrs(raw))
        elif name == "prosody" and not selfclosing:
            flush()
            if closing:
                if len(rates) > 1:
                    rates.pop()
            else:
                rate = _attrs(raw).get("rate")
                rates.append(rate_percent(rate) if rate else rates[-1])
        else:
            words.append(" ")
    words.append(text[position:])
    flush()
    return segments
