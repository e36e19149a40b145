"""Privacy-safe request summaries for logs.

Only what helps operate the skill: request type, intent name, locale. Never
user or device ids, tokens, session attributes or slot values.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

# Intent and request type names are identifiers; anything else is not echoed.
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def _safe(value: Any) -> str:
    return value if isinstance(value, str) and _NAME.match(value) else "-"


def request_summary(envelope: Any) -> str:
    """``type=... intent=... locale=...`` for one envelope, whatever its shape."""
    request = envelope.get("request") if isinstance(envelope, Mapping) else None
    request = request if isinstance(request, Mapping) else {}
    intent = request.get("intent")
    intent_name = intent.get("name") if isinstance(intent, Mapping) else None
    return (f"type={_safe(request.get('type'))} intent={_safe(intent_name)} "
            f"locale={_safe(request.get('locale'))}")
