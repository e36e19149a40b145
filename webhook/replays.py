"""A ledger of request ids shared by gunicorn's worker processes: one file per id.

``skill.replays`` keeps request ids already acted on in process memory, but a
replay may land on any worker. Here each id is a file in a directory all
workers see (``REPLAY_LEDGER_DIR``, made by the gunicorn master at start,
see webhook/gunicorn.conf.py). Creating a file with O_EXCL is atomic across
processes, so exactly one worker wins. Only requests with a side effect (a
reminder) ever write here, so the cost is off the ordinary request's path.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path

from skill import replays

log = logging.getLogger(__name__)

SWEEP_EVERY = 64  # writes between removals of expired marks


class FileLedger:
    """``skill.replays.Ledger`` over a directory; a mark older than ``keep`` no longer counts."""

    def __init__(self, directory: str | Path, keep: float = replays.KEEP_SECONDS) -> None:
        self.directory = Path(directory)
        self._keep = keep
        self._writes = 0

    def first(self, key: str) -> bool:
        path = self.directory / hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        # A mark's time is written from the clock it is read against (time.time()), never left to
        # the file system's: the two can disagree (a stepped clock, libfaketime in make test-clock),
        # and then a mark written now would read as long expired.
        now = time.time()
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            try:
                os.utime(descriptor, (now, now))
            finally:
                os.close(descriptor)
        except FileExistsError:
            try:
                if now - path.stat().st_mtime < self._keep:
                    return False
                os.utime(path, (now, now))   # an old mark: this is a new request with a reused id
            except OSError:
                return False
        except OSError as exc:   # no ledger: act rather than refuse the listener, and say so
            log.warning("replay ledger unavailable: %s", type(exc).__name__)
            return True
        self._writes += 1
        if self._writes % SWEEP_EVERY == 0:
            self.sweep()
        return True

    def sweep(self) -> None:
        """Remove marks past ``keep``."""
        oldest = time.time() - self._keep
        for entry in os.scandir(self.directory):
            try:
                if entry.stat().st_mtime < oldest:
                    os.unlink(entry.path)
            except OSError:
                continue


def share_from_environment() -> bool:
    """Under gunicorn: use the workers' shared ledger, if the master made one. Whether it did."""
    directory = os.environ.get("REPLAY_LEDGER_DIR")
    if not directory or not os.path.isdir(directory):
        return False
    replays.use(FileLedger(directory))
    return True
