"""`make bench` runs end to end on a tiny setting (BENCH_QUICK=1). Timing is not asserted here."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_runs_end_to_end_quickly():
    result = subprocess.run([sys.executable, "-m", "bench.run"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "BENCH_QUICK": "1", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    for section in ("1. Per-request cost", "2. Cold start", "3. Webhook throughput", "4. Request verification",
                    "5. Simulator NLU", "6. Memory"):
        assert f"### {section}" in out
    assert "(BENCH_QUICK=1)" in out
    assert "| µs per request, median |" in out and "resolve one utterance" in out
    assert "resolve on a generated 30-intent" in out  # the NLU speed limit lives here, not in the unit tests
