"""Privacy-safe request summaries for logs.

Only what helps operate the skill: request type, intent name, locale. Never
user or device ids, tokens, session attributes or slot values.
"""
from __future__ import annotations

import re
from typing import Any

from .appid import dig

# Intent and request type names are identifiers; anything else is not echoed.
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def _safe(value: Any) -> str:
    return value if isinstance(value, str) and _NAME.match(value) else "-"


def request_summary(envelope: Any) -> str:
    """``type=... intent=... locale=...`` for one envelope, whatever its shape."""
    return (f"type={_safe(dig(envelope, 'request', 'type'))} "
            f"intent={_safe(dig(envelope, 'request', 'intent', 'name'))} "
            f"locale={_safe(dig(envelope, 'request', 'locale'))}")


def where(exc: BaseException) -> str:
    """``file.py:line`` where ``exc`` was raised: enough to find a bug, without its message.

    Exception messages can carry request values (the SDK's SerializationException
    quotes the field it could not read, a user id for example), so failures are
    logged by type and place only.
    """
    tb = exc.__traceback__
    if tb is None:
        return "unknown"
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return f"{code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
