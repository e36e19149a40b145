"""Which skill a request is for: kept apart from verification so Lambda stays light."""
from __future__ import annotations

from typing import Any, Collection, Mapping


class WrongApplication(ValueError):
    """The request names a skill we are not configured to serve."""


def parse_skill_ids(value: str | None) -> frozenset[str]:
    """Skill ids from a comma-separated setting; empty means "accept any" (development)."""
    return frozenset(part.strip() for part in (value or "").split(",") if part.strip())


def application_id(envelope: Mapping[str, Any]) -> str | None:
    """The application id from ``context.System``, falling back to ``session``."""
    for path in (("context", "System", "application", "applicationId"),
                 ("session", "application", "applicationId")):
        node: Any = envelope
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, str):
            return node
    return None


def check_application_id(envelope: Mapping[str, Any], allowed: Collection[str]) -> None:
    """Raise WrongApplication unless the request is for one of ``allowed`` (if any)."""
    if allowed and application_id(envelope) not in allowed:
        raise WrongApplication("wrong application id")
