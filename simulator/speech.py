"""Hear the answers: espeak-ng reads the SSML aloud or into WAV files."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

from .ssml import to_espeak

ESPEAK = "espeak-ng"
INSTALL_HINT = "install it with: apt-get install espeak-ng"
# espeak-ng exits 0 when it cannot open a sound device; ALSA's complaints on stderr are the only sign.
_ALSA_PREFIX = re.compile(r"^ALSA lib \S+:\d+:\([^)]*\)\s*")
_PLAYBACK_TROUBLE = re.compile(r"ALSA lib|audio|pcm|device|error", re.I)


class SpeechError(RuntimeError):
    """espeak-ng is missing or failed; str() is one line."""


def find_espeak(name: str = ESPEAK) -> str:
    """Path of espeak-ng, or SpeechError with an install hint."""
    path = shutil.which(name)
    if path is None:
        raise SpeechError(f"{name} not found; {INSTALL_HINT}")
    return path


def voice_for(locale: str) -> str:
    """espeak-ng voice for an Alexa locale (en-US -> en-us, de-DE -> de)."""
    language, _, region = locale.lower().partition("-")
    if language == "en":
        return "en-us" if region in ("us", "ca", "") else "en-gb"
    if language == "pt" and region == "br":
        return "pt-br"
    return language


def markup(ssml: str | None, plain: str) -> str:
    """espeak-ng input for a turn: its SSML made safe, or the plain text escaped."""
    return to_espeak(ssml) if ssml else f"<speak>{html.escape(plain, quote=False)}</speak>"


def speak(text: str, locale: str, *, wav: Path | None = None, espeak: str | None = None) -> None:
    """Speak espeak-ready SSML (see markup()), or write it to a WAV file."""
    command = [espeak or find_espeak(), "-m", "-v", voice_for(locale), "--stdin"]
    if wav is not None:
        command[1:1] = ["-w", str(wav)]
    try:
        result = subprocess.run(command, input=text, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpeechError(f"espeak-ng failed: {exc}") from None
    if result.returncode != 0:
        raise SpeechError(f"espeak-ng failed: {' '.join(result.stderr.split())[:200]}")
    if wav is None and _PLAYBACK_TROUBLE.search(result.stderr):
        raise SpeechError(f"espeak-ng could not play the audio ({playback_problem(result.stderr)}); "
                          f"is there a sound device?")


def playback_problem(stderr: str) -> str:
    """The telling line of espeak-ng's (ALSA's) complaint, without the source-file prefix."""
    lines = [_ALSA_PREFIX.sub("", line).strip() for line in stderr.splitlines() if line.strip()]
    telling = [line for line in lines if re.search(r"unknown pcm|cannot|no such device|refused", line, re.I)]
    return (telling or lines or ["no details"])[0][:160]
