"""One "now" per test, read by everything the test starts.

A test that fixes the time must give that same instant to every reader of a
clock: the request timestamps it sends, the local Alexa API that judges a
reminder's time, the simulator's ``--now``. Two clocks (a fixed one in the
requests, the real one in a server) agree only on the day the test was written;
after that the test fails for no fault of the code. Pass one ``Clock`` around.
"""
from __future__ import annotations

from datetime import datetime, timezone


def parse_instant(stamp: str) -> datetime:
    """An ISO 8601 instant with an offset or ``Z``; a naive one is refused (whose "now" would it be?)."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{stamp!r} has no UTC offset")
    return moment.astimezone(timezone.utc)


class Clock:
    """A fixed instant that servers call (``clock()``) and envelopes print (``clock.stamp()``)."""

    def __init__(self, now: datetime | str) -> None:
        self.set(now)

    def set(self, now: datetime | str) -> None:
        self.now = parse_instant(now) if isinstance(now, str) else now.astimezone(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def stamp(self) -> str:
        """The instant as Alexa writes ``request.timestamp``."""
        return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
