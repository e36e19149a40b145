"""SSML for espeak-ng, so the simulator can play answers aloud.

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
