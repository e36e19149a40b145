"""The Makefile's promises that are cheap to check for real: what `make clean` removes, what `make run` installs."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MADE = [".venv/bin/python", "build/skill-package/skill.json", "dist/lambda.zip", ".pytest_cache/v/x",
        ".hypothesis/examples/x", "tests/interop/node_modules/virtual-alexa/package.json",
        "simulator/__pycache__/cli.cpython-311.pyc", "tests/__pycache__/x.pyc"]
KEPT = ["simulator/cli.py", "tests/interop/package-lock.json", "docs/screenshots/answer-phone.png", "README.md"]


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
def test_make_clean_removes_everything_the_build_and_tests_make(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    for name in MADE + KEPT:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    done = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [name for name in MADE if (tmp_path / name).exists()] == []
    assert not (tmp_path / "tests/interop/node_modules").exists()
    assert [name for name in KEPT if not (tmp_path / name).exists()] == []


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            names |= requirement_names(path.parent / line[3:].strip())
        elif line:
            names.add(re.split(r"[=<>~!\[ ]", line)[0].lower())
    return names


def test_run_set_is_the_runtime_set_plus_the_simulator_matcher_and_no_dev_tools():
    run = requirement_names(ROOT / "requirements-run.txt")
    assert requirement_names(ROOT / "requirements.txt") < run
    assert "rapidfuzz" in run          # the page's and the CLI's NLU
    assert not run & {"pytest", "hypothesis", "playwright", "cfn-lint", "pillow"}
    assert run < requirement_names(ROOT / "requirements-dev.txt")


def test_make_run_and_ask_install_only_the_run_set():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("run", "ask"):
        prerequisites = re.search(rf"^{target}:(.*)$", makefile, re.M)[1].split()
        assert prerequisites == ["install-run"], (target, prerequisites)
    assert re.search(r"^test:.*\binstall\b", makefile, re.M)


def documented_targets(makefile: str) -> dict[str, str]:
    """Each target with the `##` comment right above it, joined into one line."""
    targets, doc = {}, []
    for line in makefile.splitlines():
        if line.startswith("## "):
            doc.append(line[3:])
        else:
            target = re.match(r"^([a-z][a-z-]*):", line)
            if target and doc:
                targets[target[1]] = " ".join(doc)
            doc = []
    return targets


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
def test_make_alone_prints_help_listing_every_target_from_its_comment(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    alone = subprocess.run(["make"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    helped = subprocess.run(["make", "help"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert alone.returncode == 0 == helped.returncode, alone.stderr
    assert alone.stdout == helped.stdout and alone.stderr == ""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = documented_targets(makefile)
    listed = {line.split()[0]: " ".join(line.split()[1:]) for line in alone.stdout.splitlines()
              if line.startswith("  ")}
    assert listed == targets
    phony = set(" ".join(re.findall(r"^\.PHONY:((?:.*\\\n)*.*)$", makefile, re.M)).replace("\\", " ").split())
    assert phony == set(targets), "every target is .PHONY and has a ## comment"
    assert list(listed)[:4] == ["help", "run", "ask", "test"]   # what a newcomer needs, first
    assert not (tmp_path / ".venv").exists()                    # help installs nothing


def make_dry(target: str) -> str:
    done = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
def test_ci_runs_the_suite_the_slow_tests_and_the_shifted_clock():
    """make test leaves the slow tests out, make test-slow runs only them, make test-clock moves the clock
    both ways; .ci/run runs all three, make test first."""
    assert '-n auto' in make_dry("test") and '-m "not slow"' in make_dry("test")
    assert "-m slow" in make_dry("test-slow") and "-n auto" in make_dry("test-slow")
    clock = make_dry("test-clock")
    assert "faketime -f '+400d'" in clock and "faketime -f '-30d'" in clock
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line.strip().startswith("make ")]
    assert ci == ["make test", "make test-slow", "make test-clock"]
