"""Request ids already acted on, so that a replayed request repeats no side effect.

Alexa accepts a signed request for 150 s either side of its timestamp, so a
request captured in transit could be sent again within that window and, with
the same session attributes, do the same thing again: a consent "ACCEPTED"
replayed ten times made ten reminders. ``first_time`` answers, per request id,
True once and False for every repeat within ``KEEP_SECONDS``.

Where the memory lives is the host's choice (``use``). By default it is this
process's: right for Lambda (an invocation cannot be replayed from outside;
containers share nothing anyway) and for one process. gunicorn's workers are
separate processes, so the webhook gives them a ledger they share
(``webhook.replays.FileLedger``). Hosts on several machines would need a
shared store; see docs/serving.md.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Protocol

# A request accepted now carries a timestamp at most 150 s ahead, so it can be
# accepted again until 150 s after that: 300 s from first sight covers it.
KEEP_SECONDS = 300.0


class Ledger(Protocol):
    def first(self, key: str) -> bool:
        """True the first time ``key`` is seen within KEEP_SECONDS, False after."""


class MemoryLedger:
    """This process's ledger: a bounded, time-ordered dict behind a lock."""

    def __init__(self, keep: float = KEEP_SECONDS, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._keep, self._max, self._clock = keep, max_keys, clock
        self._seen: OrderedDict[str, float] = OrderedDict()   # key -> when it may be forgotten
        self._lock = threading.Lock()

    def first(self, key: str) -> bool:
        now = self._clock()
        with self._lock:
            while self._seen and next(iter(self._seen.values())) <= now:
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now + self._keep
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)
            return True


_ledger: Ledger = MemoryLedger()


def use(ledger: Ledger) -> None:
    """Make ``ledger`` this process's memory of request ids (the host calls this once, at start)."""
    global _ledger
    _ledger = ledger


def first_time(request_id: object) -> bool:
    """Whether this request id is new; a request without one cannot be told apart, so it is."""
    if not isinstance(request_id, str) or not request_id:
        return True
    return _ledger.first(request_id)
