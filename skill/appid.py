"""Reading raw envelopes safely, and which skill a request is for.

Kept apart from verification (which imports cryptography) so Lambda stays light.
"""
from __future__ import annotations

from typing import Any, Collection, Mapping


class WrongApplication(ValueError):
    """The request names a skill we are not configured to serve."""


def parse_skill_ids(value: str | None) -> frozenset[str]:
    """Skill ids from a comma-separated setting; empty means "accept any" (development)."""
    return frozenset(part.strip() for part in (value or "").split(",") if part.strip())


def dig(obj: Any, *keys: str) -> Any:
    """``obj[k1][k2]...`` through Mappings only; None if any level is missing or odd.

    Envelopes arrive from the network before any validation, so every level
    may be of any JSON type.
    """
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def application_id(envelope: Mapping[str, Any]) -> str | None:
    """The application id from ``context.System``, falling back to ``session``."""
    for path in (("context", "System", "application", "applicationId"),
                 ("session", "application", "applicationId")):
        node = dig(envelope, *path)
        if isinstance(node, str):
            return node
    return None


def check_application_id(envelope: Any, allowed: Collection[str]) -> None:
    """Raise WrongApplication unless the request is for one of ``allowed``; none allowed means any.

    The one check for the Lambda entry, the webhook and the verifier. Its
    message ("missing application id" or "wrong application id") names no id,
    so callers may log it or send it back.
    """
    if not allowed:
        return
    app_id = application_id(envelope)
    if not app_id:
        raise WrongApplication("missing application id")
    if app_id not in allowed:
        raise WrongApplication("wrong application id")
