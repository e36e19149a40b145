"""Privacy-safe request summaries for logs.

Only what helps operate the skill: request type, intent name, locale. Never
user or device ids, tokens, session attributes or slot values.
"""
from __future__ import annotations

import os
import re
import sys
from typing import Any

from .appid import dig

# Intent and request type names are identifiers; anything else is not echoed.
# fullmatch: "$" would also match before a final newline, which then split the
# log line (an intent name "X\n..." wrote a second, forged line).
_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,100}")


def _safe(value: Any) -> str:
    return value if isinstance(value, str) and _NAME.fullmatch(value) else "-"


def request_summary(envelope: Any) -> str:
    """``type=... intent=... locale=...`` for one envelope, whatever its shape."""
    return (f"type={_safe(dig(envelope, 'request', 'type'))} "
            f"intent={_safe(dig(envelope, 'request', 'intent', 'name'))} "
            f"locale={_safe(dig(envelope, 'request', 'locale'))}")


def where(exc: BaseException) -> str:
    """``package/file.py:line`` where ``exc`` was raised: enough to find a bug, without its message.

    Exception messages can carry request values (the SDK's SerializationException
    quotes the field it could not read, a user id for example), so failures are
    logged by type and place only. The place is relative to its import root
    (``skill/handlers.py``, ``ask_sdk_core/dispatch.py``): where the code is
    installed says nothing about the bug and much about the machine.
    """
    tb = exc.__traceback__
    if tb is None:
        return "unknown"
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f"{relative_path(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"


def relative_path(filename: str) -> str:
    """``filename`` relative to the longest ``sys.path`` entry holding it, else its base name."""
    best = ""
    for entry in sys.path:
        root = os.path.join(os.path.abspath(entry or os.curdir), "")
        if filename.startswith(root) and len(root) > len(best):
            best = root
    return filename[len(best):] if best else os.path.basename(filename)
