"""The production Dockerfile, checked without a Docker engine.

The file is parsed into instructions and checked for what matters: a pinned
slim base, only the runtime requirements, a non-root user, a HEALTHCHECK, and
the very command `make serve` runs. Then the image's file layout is rebuilt in
a temporary directory from its COPY lines, its CMD is started there (on
loopback), and its HEALTHCHECK command is run against it, so a file the image
forgets to copy, or a health check that cannot pass, fails here.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from testkit.server import free_port, running
from testkit.envelopes import APP_ID

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
KNOWN = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
         "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON (exec) form's arguments, or None for the shell form."""
        text = self.args.strip()
        return json.loads(text) if text.startswith("[") else None


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped (default escape ``\\``)."""
    instructions, pending, start = [], "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):      # comment lines inside a continuation are skipped
            continue
        if not pending:
            start = number
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        logical = pending + raw
        pending = ""
        keyword, _, args = logical.strip().partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start))
    if pending:
        raise ValueError("Dockerfile ends inside a continuation line")
    return instructions


@pytest.fixture(scope="module")
def instructions():
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def only(instructions, keyword) -> Instruction:
    found = [i for i in instructions if i.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {len(found)}"
    return found[0]


def env_settings(instructions) -> dict[str, str]:
    settings = {}
    for inst in instructions:
        if inst.keyword == "ENV":
            settings.update(part.split("=", 1) for part in shlex.split(inst.args))
    return settings


def serve_command() -> list[str]:
    """The command the Makefile's `serve` target runs, without env assignments or the venv path."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^serve:.*\n\t(.+)$", makefile, re.M)[1]
    words = shlex.split(recipe)
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        words.pop(0)
    words[0] = words[0].removeprefix("$(BIN)/")
    return words


# --- the file -------------------------------------------------------------------

def test_parses_into_known_instructions(instructions):
    assert instructions and all(i.keyword in KNOWN for i in instructions)
    assert instructions[0].keyword == "FROM"
    assert parse_dockerfile("FROM a\nRUN x \\\n  # note\n  y\n")[1].args.split() == ["x", "y"]


def test_base_image_is_a_pinned_slim_python(instructions):
    image = only(instructions, "FROM").args.split()[0]
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-([a-z]+)(@sha256:[0-9a-f]{64})?", image)
    assert match, f"{image} is not pinned to python:<x.y.z>-slim-<debian release>"
    assert "latest" not in image
    # The same Python minor version as the Lambda runtime in template.yaml.
    assert f"{match[1]}.{match[2]}" == "3.12"
    assert "python3.12" in (ROOT / "template.yaml").read_text(encoding="utf-8")


def test_installs_only_the_runtime_requirements(instructions):
    copies = [i.args for i in instructions if i.keyword in ("COPY", "ADD")]
    assert not any("requirements-" in c for c in copies)
    installs = [i.args for i in instructions if i.keyword == "RUN" and "pip install" in i.args]
    assert installs == ["pip install -r requirements.txt"]
    assert not any(i.keyword == "ADD" for i in instructions)


def test_runs_as_a_non_root_user(instructions):
    keywords = [i.keyword for i in instructions]
    users = [i for i in instructions if i.keyword == "USER"]
    assert users, "no USER: the server would run as root"
    last = users[-1]
    assert keywords.index("CMD") > instructions.index(last)
    user = last.args.split(":")[0]
    assert user not in ("root", "0")
    created = " ".join(i.args for i in instructions[:instructions.index(last)] if i.keyword == "RUN")
    assert re.search(rf"useradd\b.*--uid {re.escape(user)}\b", created) or re.search(rf"useradd\b.*\b{user}$", created)


def test_listens_on_all_interfaces_at_the_exposed_port(instructions):
    settings = env_settings(instructions)
    assert settings["HOST"] == "0.0.0.0"
    assert only(instructions, "EXPOSE").args.split() == [settings["PORT"]]


def test_cmd_is_exactly_make_serve(instructions):
    assert only(instructions, "CMD").exec_form() == serve_command() == [
        "gunicorn", "-c", "webhook/gunicorn.conf.py", "webhook.app:production_app()"]
    assert not any(i.keyword == "ENTRYPOINT" for i in instructions)


# --- the image's layout, run here --------------------------------------------------

def image_tree(instructions, into: Path) -> Path:
    """Rebuild /app from the Dockerfile's WORKDIR and COPY lines; returns the workdir."""
    workdir = into / only(instructions, "WORKDIR").args.lstrip("/")
    workdir.mkdir(parents=True)
    for inst in instructions:
        if inst.keyword != "COPY":
            continue
        *sources, dest = inst.exec_form() or shlex.split(inst.args)
        assert not any(s.startswith("--") for s in sources), "COPY flags are not modelled here"
        for source in sources:
            origin = ROOT / source.rstrip("/")
            if origin.is_dir():                  # COPY dir/ dest/ copies the directory's contents
                shutil.copytree(origin, workdir / dest, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                target = workdir / dest / origin.name if dest.endswith("/") else workdir / dest
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(origin, target)
    return workdir


def healthcheck(instructions, port: int) -> int:
    check = only(instructions, "HEALTHCHECK")
    argv = json.loads(check.args[check.args.index("CMD") + 3:].strip())
    argv[0] = sys.executable
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": str(port)}
    return subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode


def test_the_image_command_serves_and_passes_its_healthcheck(instructions, tmp_path):
    app = image_tree(instructions, tmp_path)
    assert not (app / "tests").exists() and (app / "webhook" / "app.py").exists()
    port = free_port()
    venv_bin = str(Path(sys.executable).parent)
    env = {"PATH": f"{venv_bin}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
           **env_settings(instructions), "HOST": "127.0.0.1", "PORT": str(port),
           "WEB_CONCURRENCY": "1", "SKILL_ID": APP_ID}
    argv = only(instructions, "CMD").exec_form()
    argv[0] = shutil.which(argv[0], path=env["PATH"])
    base = f"http://127.0.0.1:{port}"
    with running(argv, base, cwd=app, env=env, log=tmp_path / "gunicorn.log", timeout=30):
        with urllib.request.urlopen(f"{base}/health", timeout=2) as reply:
            assert json.loads(reply.read()) == {"status": "ok", "mode": "production"}
        assert healthcheck(instructions, port) == 0
    assert healthcheck(instructions, port) != 0     # nothing listening: unhealthy
