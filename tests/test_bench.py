"""`make bench` runs end to end on a tiny setting (BENCH_QUICK=1), and stops cleanly on Ctrl-C.

Timing is not asserted here.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import run

ROOT = Path(__file__).resolve().parent.parent
# One xdist worker runs these: each starts gunicorn servers and wrk, which would only slow each other.
# `make test-slow`: whole benchmark runs, 6 to 30 s each, that check the harness rather than the skill.
pytestmark = pytest.mark.slow
QUICK = {**os.environ, "BENCH_QUICK": "1", "PYTHONPATH": str(ROOT)}


def test_bench_runs_end_to_end_quickly(tmp_path, lambda_zip):
    benchmarks = (ROOT / "BENCHMARKS.md").read_bytes()
    env = {**QUICK, "BENCH_RESULTS_DIR": str(tmp_path), "BENCH_LAMBDA_ZIP": str(lambda_zip)}
    result = subprocess.run([sys.executable, "-m", "bench.run"], cwd=ROOT, capture_output=True, text=True,
                            timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    for section in ("1. Per-request cost", "2. Cold start, the Lambda way", "3. Webhook throughput",
                    "4. Request verification", "5. Simulator NLU", "6. Memory"):
        assert f"### {section}" in out
    for step in ("] 1. ", "] 2. ", "cold start round 3/3", "] 3 and 6. ", "] 4. ", "] 5. ", f"wrote {tmp_path}"):
        assert step in result.stderr   # progress as it goes
    assert "(BENCH_QUICK=1)" in out
    assert "| µs per request, median |" in out and "resolve one utterance" in out
    assert "resolve on a generated 30-intent" in out  # the NLU speed limit lives here, not in the unit tests
    assert "| import + first response, ms (median), as on Lambda |" in out and "SDK hello world (pip --target)" in out
    assert (tmp_path / "results-quick.md").read_text(encoding="utf-8") == out.rstrip("\n") + "\n"
    assert (ROOT / "BENCHMARKS.md").read_bytes() == benchmarks   # only `make bench-record` rewrites it
    for section in out.split("\n### ")[1:]:   # a miss in a smoke run says it is one
        assert "**missed**" not in section or run.QUICK_NOTE in section, section


def test_a_missed_target_says_why():
    missed = run.table(("", "ratio", "target ≤ 1.0"), [("cold start", "1.04", run.verdict(False, "ratio 1.04 > 1.0"))])
    met = run.table(("", "ratio", "target ≤ 1.0"), [("cold start", "0.98", run.verdict(True, "ratio 0.98 > 1.0"))])
    assert missed[-1].endswith("| **missed**: ratio 1.04 > 1.0 |") and met[-1].endswith("| met |")
    assert run.explain_misses("2. Cold start", met, load_before=0.1) == []
    why = " ".join(run.explain_misses("2. Cold start", missed, load_before=0.1))
    assert "Cold start the Lambda way" in why and "load average" not in why
    busy = " ".join(run.explain_misses("4. Request verification", missed, load_before=1.7))
    assert "load average was 1.7" in busy and "BENCHMARKS.md" not in busy
    assert "normally met" in " ".join(run.explain_misses("5. Simulator NLU", missed, load_before=0.1))


def test_a_quick_run_is_never_recorded():
    result = subprocess.run([sys.executable, "-m", "bench.run", "--write"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env=QUICK)
    assert result.returncode == 2 and "never recorded" in result.stderr


def default_sigint() -> None:
    """In the child: Ctrl-C as a terminal gives it, even when this suite runs with SIGINT ignored
    (nohup, a background job, some CI runners), which children would otherwise inherit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_stops_cleanly(tmp_path, how):
    """Mid-way through the cold-start runs: SIGINT to the whole process group, as a terminal sends
    Ctrl-C; or SIGTERM to the run alone, as `kill` or a CI time-out sends it."""
    env = {**QUICK, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "bench.run"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=default_sigint)
    lines = []
    try:
        for line in proc.stderr:
            lines.append(line)
            if "cold start round 1/" in line:
                break
        time.sleep(0.5)
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    err = "".join(lines) + err
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err and "Traceback" not in err
    time.sleep(0.5)
    try:
        os.killpg(proc.pid, 0)
        leftovers = True
    except ProcessLookupError:
        leftovers = False
    assert not leftovers, "processes of the run were left behind"
    assert list(tmp_path.iterdir()) == []   # temporary copies removed
