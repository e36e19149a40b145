"""`make run`'s server as a newcomer meets it: what it prints first, one log line per request, a busy port."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from testkit import envelopes as E
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


# --- issue 23, N7: a web page must not be able to drive the dev server -----------------

class Canary:
    """A loopback listener that only counts connections: stands for any local service
    (or, for HTTPS, any host) that the dev server must never be made to call."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()   # no answer: the skill's call fails, which is all we need

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture(scope="module")
def devserver():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "SKILL_ID"}
    with running(devserver_argv(port), base, env=env):
        yield base, port


@pytest.fixture
def canary():
    listener = Canary()
    yield listener
    listener.close()


def consent_envelope(api_endpoint: str) -> bytes:
    """Alexa's "ACCEPTED" for the reminder permission: the skill at once calls apiEndpoint."""
    env = E.point_at_api(E.envelope(E.connections_response("ACCEPTED")), api_endpoint,
                         "Bearer-token-of-the-page", granted=True)
    return json.dumps(env).encode()


@pytest.mark.parametrize("headers", [
    {"Content-Type": "text/plain", "Origin": "https://evil.example"},          # what any page can send
    {"Content-Type": "application/json", "Origin": "https://evil.example"},
    {"Content-Type": "text/plain"},
    {"Content-Type": "application/x-www-form-urlencoded", "Origin": "null"},
    {"Content-Type": "application/json", "Host": "evil.example:{port}"},        # DNS rebinding
])
def test_requests_a_web_page_can_make_are_refused(devserver, canary, headers):
    base, port = devserver
    headers = {k: v.format(port=port) for k, v in headers.items()}
    body = consent_envelope(f"http://127.0.0.1:{canary.port}")
    replies = {path: requests.post(f"{base}{path}", data=body, headers=headers, timeout=10)
               for path in ("/alexa", "/simulator/turn")}
    time.sleep(0.3)
    statuses = {path: reply.status_code for path, reply in replies.items()}
    refused = all(status in (400, 403) for status in statuses.values())
    assert (refused, canary.connections) == (True, 0), (statuses, f"{canary.connections} calls to the canary")
    assert all("error" in reply.json() for reply in replies.values())


def test_the_skill_in_the_dev_server_calls_no_https_host(devserver, canary):
    """Pinned: its requests are unsigned, so it calls Alexa's API on loopback HTTP only,
    where simulators serve it; not an HTTPS host (Amazon's included: no real token)."""
    base, _ = devserver
    reply = requests.post(f"{base}/alexa", data=consent_envelope(f"https://127.0.0.1:{canary.port}"),
                          headers={"Content-Type": "application/json"}, timeout=10)
    assert reply.status_code == 200
    assert "reminder" in reply.json()["response"]["outputSpeech"]["ssml"]
    time.sleep(0.3)
    assert canary.connections == 0


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "LOCALHOST:{port}"])
def test_its_own_names_and_its_page_still_work(devserver, host):
    base, port = devserver
    name = host.format(port=port)
    assert requests.get(f"{base}/", headers={"Host": name}, timeout=5).status_code == 200
    reply = requests.post(f"{base}/simulator/turn", json={"utterance": "what is a psa test"}, timeout=10,
                          headers={"Host": name, "Origin": f"http://{name}"})
    assert reply.status_code == 200 and reply.json()["intent"] == "PsaTestIntent"
    reply = requests.post(f"{base}/alexa", json=E.envelope(E.launch()), headers={"Host": name}, timeout=10)
    assert reply.status_code == 200
