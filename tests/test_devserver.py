"""`make run`'s server as a newcomer meets it: what it prints first, one log line per request, a busy port."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import requests

from testkit.server import free_port, running

ROOT = Path(__file__).resolve().parent.parent


def devserver_argv(port: int) -> list[str]:
    return [sys.executable, "-m", "simulator.devserver", "--host", "127.0.0.1", "--port", str(port)]


def test_first_lines_name_the_page_make_ask_the_webhook_and_the_warning(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if k != "SKILL_ID"}
    with running(devserver_argv(port), base, env=env, log=log):
        assert requests.get(f"{base}/", timeout=5).status_code == 200
        assert requests.get(f"{base}/health", timeout=5).status_code == 200
    lines = log.read_text().splitlines()
    first = "\n".join(lines[:5])
    assert f"open {base}/ in a browser" in lines[1]
    assert 'make ask Q="what is psa"' in first
    assert f"{base}/alexa" in first
    assert "Not for the internet" in first
    # Each request is logged once, by the app (werkzeug's own access line is off).
    page_lines = [line for line in lines if "GET / " in line or '"GET / HTTP' in line]
    assert len(page_lines) == 1, page_lines
    assert not any("HTTP/1.1\" 200" in line for line in lines), lines


def test_a_busy_port_names_the_port_setting():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(devserver_argv(port), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"make run PORT={port + 1}" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""   # no banner promising a page that is not there
