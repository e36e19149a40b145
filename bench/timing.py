"""Side-by-side timing on a noisy machine: alternate the two sides, report medians and the ratio."""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Comparison:
    ours: float  # median seconds per call
    baseline: float

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline


def per_call(fn: Callable[[], object], calls: int) -> float:
    """Seconds per call over a batch (batches smooth out timer resolution)."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def alternate(ours: Callable[[], object], baseline: Callable[[], object], rounds: int,
              calls: int) -> Comparison:
    """Run batches of each side in turn, so drift and noise hit both alike."""
    for fn in (ours, baseline):  # warm-up
        per_call(fn, max(1, calls // 10))
    a, b = [], []
    for _ in range(rounds):
        a.append(per_call(ours, calls))
        b.append(per_call(baseline, calls))
    return Comparison(statistics.median(a), statistics.median(b))


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]
