"""Build an expensive thing once per test run, however many pytest-xdist workers share the run.

The Lambda zip, the npm install of the interop client and the like take seconds
each. Under ``pytest -n auto`` every worker is its own process with its own
session fixtures, so a plain session fixture would build them once per worker.
Here the first worker to ask builds into a directory shared by the whole run
(the parent of the workers' base temp directories), under a file lock; the
others wait on the lock and reuse the result. Without xdist it is an ordinary
session-scoped build in the run's temp directory.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

import pytest
from filelock import FileLock

DONE = ".built"


def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temp directory of this whole run: shared by its xdist workers, new for every run."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """``build(directory)`` once per run; every caller gets the same, finished directory.

    A build that raised leaves nothing behind, so the next caller tries again
    (and sees the same error) rather than reusing half a result.
    """
    target = run_dir(tmp_path_factory) / f"once-{name}"
    with FileLock(f"{target}.lock"):
        if not (target / DONE).exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            try:
                build(target)
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)
                raise
            (target / DONE).touch()
    return target
