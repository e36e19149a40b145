"""Every command in the README works: each is run here, or named with the test that runs it.

A command is a code span or a line of a shell block that starts with `make`,
`.venv/bin/...`, an environment setting, or a deployment tool. Commands of the
Makefile are checked with `make -n` (the target exists and takes those
settings; nothing is run or installed) and the cheap ones are then run for
real; simulator and pytest commands run for real; the rest name the test that
covers them. A command added to the README that none of this covers fails here.
"""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
STARTS = ("make", ".venv/bin/", "SKILL_ID=", "BENCH_QUICK=", "sam ", "ask ", "(cd build", "docker ", "curl ", "ruff ",
          "python ", "pip ", "npm ")
# Commands a test elsewhere runs (or, for tools we do not ship, checks the input of).
COVERED = {
    "make run": "tests/test_devserver.py",                       # the server `make run` starts
    "make test": "tests/test_makefile.py",                       # its recipe: ruff, then pytest
    "make install": "tests/test_makefile.py",
    "make test-slow": "tests/test_makefile.py",                  # its recipe: the slow tests, in parallel
    "make test-clock": "tests/test_makefile.py",                 # its recipe: faketime a year ahead, a month back
    "make models": "tests/test_models.py",                       # stale models fail there
    "make package": "tests/test_deploy_lambda.py",
    "make skill-package": "tests/test_deploy_manifest.py",
    "make serve": "tests/test_deploy_docker.py",                 # the Dockerfile runs this very command
    "make bench": "tests/test_bench.py",                         # BENCH_QUICK=1 end to end
    "sam deploy": "tests/test_deploy_lambda.py",                 # cfn-lint validates template.yaml, offline
    "ask deploy": "tests/test_deploy_manifest.py",               # the package it uploads
    "-m tools.learner": "tests/test_learner.py",                 # its command line and its tables
    "make test PYTEST_ARGS=": "tests/test_makefile.py",          # the seed line names this very command
}
RUN_FOR_REAL = {"help": "tests/test_makefile.py", "ask": __file__}   # make alone is make help


def commands(text: str) -> list[str]:
    """Commands in the README: code spans and shell-block lines, comments dropped."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        found += [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    found += [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]
    return [c for c in dict.fromkeys(found) if c.startswith(STARTS)]


def make_call(command: str) -> tuple[dict[str, str], str, list[str]]:
    """(settings before it, target, arguments) of a `make` command, placeholders filled."""
    command = command.replace("<id>", "0000").replace("…", "arn:aws:lambda:x")
    words = shlex.split(command)
    settings = dict(w.split("=", 1) for w in words[:words.index("make")])
    rest = words[words.index("make") + 1:]
    return settings, (rest[0] if rest else "help"), rest[1:]


def python(argv: list[str]) -> list[str]:
    """A `.venv/bin/python ...` command line, for the interpreter running these tests."""
    return [sys.executable, *argv[1:]] if argv[0] == ".venv/bin/python" else argv


def uncovered(found: list[str]) -> list[str]:
    """Commands neither run below nor named in COVERED."""
    left = []
    for command in found:
        if command.startswith((".venv/bin/python -m simulator", ".venv/bin/python -m pytest", "ruff check")) \
                or "make" in shlex.split(command.replace("(", " "))[:3]:
            continue   # run below
        key = next((k for k in COVERED if k in command), None)
        if key is None or not (ROOT / COVERED[key]).exists():
            left.append(command)
    return left


def test_the_readme_has_commands_and_each_one_is_covered():
    found = commands(README)
    assert "make run" in found and "make test" in found and 'make ask Q="what is psa"' in found
    assert uncovered(found) == [], "run these here or name their test in COVERED"
    assert uncovered(commands("Try `docker compose up`, then `.venv/bin/python -m bench.load`.")) == [
        "docker compose up", ".venv/bin/python -m bench.load"]


def test_ruff_check_as_the_readme_says():
    done = subprocess.run([str(Path(sys.executable).with_name("ruff")), "check", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
@pytest.mark.parametrize("command", [c for c in commands(README) if "make" in shlex.split(c)[:3]])
def test_every_make_command_names_a_real_target_with_its_settings(command):
    settings, target, args = make_call(command)
    dry = subprocess.run(["make", "-n", target, *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**_env(), **settings})
    assert dry.returncode == 0, dry.stderr
    assert target in RUN_FOR_REAL or any(target == k.split()[1] for k in COVERED if k.startswith("make ")), \
        f"make {target}: run it here or name its test in COVERED"


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
def test_make_ask_answers_the_readme_question():
    """`make ask Q="what is psa"`: the recipe make would run, run (the install steps before it skipped)."""
    dry = subprocess.run(["make", "-n", "ask", "Q=what is psa"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, env=_env())
    (recipe,) = [line for line in dry.stdout.splitlines() if "-m simulator" in line]
    done = subprocess.run(python(shlex.split(recipe.lstrip("@"))), cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "[GlossaryIntent term=psa" in done.stdout and "prostate-specific antigen" in done.stdout


@pytest.mark.parametrize("command", [c for c in commands(README) if c.startswith(".venv/bin/python -m simulator")])
def test_every_simulator_command_runs(command):
    done = subprocess.run(python(shlex.split(command)), cwd=ROOT, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)   # the interactive prompt: Ctrl-D at once
    assert done.returncode == 0, done.stderr
    assert "Alexa" in done.stdout and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [c for c in commands(README) if c.startswith(".venv/bin/python -m pytest")])
def test_the_one_file_test_command_runs(command):
    argv = [*python(shlex.split(command)), "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    assert re.search(r"\d+ passed", done.stdout)


def _env() -> dict[str, str]:
    import os
    return {k: v for k, v in os.environ.items() if not k.startswith(("MAKEFLAGS", "MFLAGS", "MAKELEVEL"))}


def test_the_readme_stays_short():
    """A newcomer reads it in five minutes; design notes go to docs/."""
    assert len(README.splitlines()) <= 250
    for link in re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)\)", README):
        assert (ROOT / link).exists(), link
