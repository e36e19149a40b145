"""Turning plain content text into SSML Alexa can speak, and back again.

Content stays plain prose; everything speech-specific (escaping, spelling out
acronyms, pauses, speaking rate) happens here, so the same text can go on a
card unchanged.
"""
from __future__ import annotations

import re
from functools import lru_cache

# Acronyms Alexa would otherwise try to pronounce as words ("psa" -> "pissa").
SPELLED_OUT = ("PSA", "CT", "MRI", "IV")
_ACRONYM = re.compile(r"\b(" + "|".join(SPELLED_OUT) + r")\b")
# For plain_text: what a listener hears between words. Pauses, paragraphs, sentences and
# sound clips separate words; every other tag only colours the words inside it.
_SUB = re.compile(r"<sub\b[^>]*?\balias\s*=\s*(?:\"([^\"]*)\"|'([^']*)')[^>]*>.*?</sub>", re.S)
_AUDIO = re.compile(r"<audio\b[^>]*?(?:/>|>.*?</audio>)", re.S)
_SEPARATOR = re.compile(r"</?(?:break|p|s)\b[^>]*>")
_TAG = re.compile(r"<[^>]+>")

# Speaking rates, slowest last: "say that slower" steps down one level.
RATES = ("100%", "85%", "70%")
DOCTOR_PAUSE = '<break time="400ms"/>'
MAX_SPEECH_CHARS = 8000  # Alexa rejects longer outputSpeech


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` for SSML, as ``html.escape(text, quote=False)`` does.

    Three replaces, not an import: ``html`` loads its 2,000-entry entity table
    (~2 ms of a cold start), and ``xml.sax.saxutils`` pulls in urllib and
    http.client (~18 ms).
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@lru_cache(maxsize=1024)
def to_ssml(text: str) -> str:
    """Escape plain text for SSML and spell out acronyms letter by letter.

    Cached: the texts are the content file's own (answers, doctor lines, offers,
    prompts), a few hundred in all, and the conversion was a quarter of a reply's cost.
    """
    return _ACRONYM.sub(r'<say-as interpret-as="characters">\1</say-as>', escape(text))


def join(*fragments: str) -> str:
    """Join SSML fragments with single spaces, skipping empty ones."""
    return " ".join(f for f in fragments if f)


def with_pause(before: str, after: str) -> str:
    """A short break between an answer and the see-a-doctor line."""
    return f"{before} {DOCTOR_PAUSE} {after}"


def at_rate(fragment: str, level: int) -> str:
    """Wrap a fragment in a prosody rate for the session's chosen speed."""
    rate = RATES[clamp_rate(level)]
    return fragment if rate == RATES[0] else f'<prosody rate="{rate}">{fragment}</prosody>'


def clamp_rate(level: object) -> int:
    """Session attributes come back from the client: never trust their type."""
    return min(max(level, 0), len(RATES) - 1) if isinstance(level, int) else 0


def spoken_markup(ssml: str) -> str:
    """SSML with ``<sub>`` replaced by its alias and ``<audio>`` by a pause: words only, still marked up."""
    text = _SUB.sub(lambda m: escape(m.group(1) if m.group(1) is not None else m.group(2)), ssml)
    return _AUDIO.sub(" ", text)


def plain_text(ssml: str | None) -> str:
    """The words of an SSML string, as a listener hears them (transcripts, cards, tests).

    ``html`` is imported here, not at the top: a cold start never needs it (the
    first request has no earlier turn to compare with), and its entity table is
    a measurable part of an import.
    """
    if not ssml:
        return ""
    import html
    text = _TAG.sub("", _SEPARATOR.sub(" ", spoken_markup(ssml)))
    return " ".join(html.unescape(text).split())
