"""Interop: Bespoken's virtual-alexa (npm, pinned to 0.7.8) drives the dev webhook.

virtual-alexa is an Alexa client we did not write: it reads our interaction
model, turns text into request envelopes its own way and posts them over HTTP.
``tests/interop/drive.js`` sends every sample utterance of every intent in
``interaction_model/en-US.json`` (``{term}`` filled with MEDICAL_TERM values),
every built-in intent with ``intend(name)``, and reports one JSON line per turn.

virtual-alexa's matcher is simpler than Alexa's, and the run works around it:

- Any phrase containing "ask", "open", "launch", "talk to" or "tell" anywhere,
  even inside a word ("basket"), becomes a LaunchRequest. Those samples are
  skipped and counted; ``test_few_samples_are_skipped`` keeps the count small.
- Built-in intents only know a few phrases each ("help", "stop", "yes", ...,
  from its BuiltinUtterances table) and nothing routes to AMAZON.FallbackIntent,
  so every built-in is sent with ``intend(name)``; the table's phrases are
  uttered as an extra check.
- It needs exact samples (no fuzzy matching) and slot values from the type's
  list. When a filled-in glossary phrase is word for word another intent's
  sample ("what is {term}" + "psa" = PsaTestIntent's "what is psa"), the exact
  sample wins, as it would on Alexa, so the driver fills in another value.

Needs node and npm on PATH (skips otherwise) and the npm registry the first
time, for ``npm ci`` into ``tests/interop/node_modules`` (gitignored; ``make
clean`` removes it). When the registry cannot be reached (a short ``npm ping``
fails, or ``npm ci`` fails with a network error) the tests skip and say why.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from skill.speech import MAX_SPEECH_CHARS
from testkit.once import built_once
from testkit.server import free_port, running
from tests.conftest import parse_ssml

# `run` is built once per test run (testkit/once.py): the webhook is served and virtual-alexa driven once,
# however the random order interleaves these tests with others or splits them across xdist workers.

ROOT = Path(__file__).resolve().parent.parent
INTEROP = ROOT / "tests" / "interop"
MODEL = ROOT / "interaction_model" / "en-US.json"
VIRTUAL_ALEXA_VERSION = "0.7.8"
# Written into node_modules after a successful `npm ci`: the hash of the
# manifest and lock file it was installed from, so re-runs skip the install.
STAMP = INTEROP / "node_modules" / ".interop-installed"

ERROR_APOLOGY = "Sorry, something went wrong"
# A hang guard for the whole drive, not a speed limit: it sends every en-US sample (4,460 now,
# about 38 s on two quiet cores). 60 s was hit under faketime on a loaded machine.
DRIVE_TIMEOUT = 240
# The same test virtual-alexa 0.7.8 applies before matching (VirtualAlexa.parseLaunchRequest).
LAUNCH_WORDS = re.compile(r"(ask|open|launch|talk to|tell)", re.I)
# At most this share of the model's samples may be skipped for launch words.
MAX_SKIPPED_SHARE = 0.05

# Samples that virtual-alexa resolves to a different intent than the one they
# belong to, because of its own matcher (not a fault in our model or skill):
# {(intent, sample): reason}. Currently none are needed; an entry that no
# longer mis-resolves fails test_intent_sent_is_the_samples_intent.
MISRESOLVED_ALLOWED: dict[tuple[str, str], str] = {}


# --- setup: node packages, the dev webhook, one run of the driver -------------

def lock_digest() -> str:
    h = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        h.update((INTEROP / name).read_bytes())
    return h.hexdigest()


def installed_version() -> str | None:
    manifest = INTEROP / "node_modules" / "virtual-alexa" / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def ensure_node_modules(npm: str) -> None:
    """`npm ci` unless node_modules was installed from the current lock file.

    Locked, so two test runs in one checkout do not install over each other.
    """
    lock_name = "interop-npm-" + hashlib.sha256(str(INTEROP).encode()).hexdigest()[:12] + ".lock"
    with open(Path(tempfile.gettempdir()) / lock_name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        install_if_stale(npm)


# npm's own error codes for "could not reach the registry".
NETWORK_ERRORS = re.compile(r"\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|"
                            r"ERR_SOCKET_TIMEOUT|network request to .* failed)\b", re.I)
PING_SECONDS = 20


def is_network_failure(output: str) -> bool:
    """Whether npm's output says the registry could not be reached (as opposed to a broken install)."""
    return bool(NETWORK_ERRORS.search(output))


def registry_unreachable(npm: str, env: dict[str, str] | None = None) -> str | None:
    """Why the npm registry cannot be reached, or None when a quick ``npm ping`` answers."""
    command = [npm, "ping", "--fetch-timeout=8000", "--fetch-retries=0", "--no-update-notifier"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PING_SECONDS, env=env)
    except subprocess.TimeoutExpired:
        return f"npm ping got no answer within {PING_SECONDS} s"
    if done.returncode == 0:
        return None
    codes = NETWORK_ERRORS.findall(done.stdout + done.stderr)
    return f"npm ping failed ({codes[0] if codes else f'exit {done.returncode}'})"


def npm_ci(npm: str, cwd: Path = INTEROP, env: dict[str, str] | None = None) -> None:
    """``npm ci`` in cwd; skips (with the reason) when the registry is unreachable, fails on any other error."""
    why = registry_unreachable(npm, env)
    if why:
        pytest.skip(f"npm registry unreachable, virtual-alexa cannot be installed: {why}")
    # --ignore-scripts: the only install script in the tree is aws-sdk's
    # "end of support" notice; nothing needs building.
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--no-update-notifier"],
                          cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
    if done.returncode != 0:
        output = f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        if is_network_failure(output):
            pytest.skip(f"npm registry unreachable during npm ci: {NETWORK_ERRORS.search(output)[0]}")
        pytest.fail(f"npm ci failed in {cwd}:\n{output}")


def install_if_stale(npm: str) -> None:
    digest = lock_digest()
    if (STAMP.is_file() and STAMP.read_text().strip() == digest
            and installed_version() == VIRTUAL_ALEXA_VERSION):
        return
    npm_ci(npm)
    assert installed_version() == VIRTUAL_ALEXA_VERSION
    STAMP.write_text(digest + "\n")


def webhook_argv_env() -> tuple[list[str], dict[str, str], str]:
    """The dev webhook on a free loopback port, accepting any skill id (virtual-alexa makes one up)."""
    env = {k: v for k, v in os.environ.items() if k != "SKILL_ID"}
    env["LOG_LEVEL"] = "WARNING"
    port = free_port()
    argv = [sys.executable, "-m", "simulator.devserver", "--host", "127.0.0.1", "--port", str(port)]
    return argv, env, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def run(tmp_path_factory) -> dict[str, Any]:
    """Install, serve, drive once per test run (shared by every xdist worker); the records grouped by kind."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("virtual-alexa interop needs node and npm on PATH")
    done = built_once(tmp_path_factory, "interop", lambda directory: drive(node, npm, directory))
    return json.loads((done / "records.json").read_text(encoding="utf-8"))


def drive(node: str, npm: str, directory: Path) -> None:
    """Serve the dev webhook, let virtual-alexa drive it, and keep its records in directory/records.json."""
    ensure_node_modules(npm)
    log = directory / "webhook.log"
    argv, server_env, base = webhook_argv_env()
    with running(argv, base, env=server_env, log=log):
        env = {**os.environ, "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE": "1"}
        done = subprocess.run([node, "drive.js", f"{base}/alexa", str(MODEL)], cwd=INTEROP, env=env,
                              capture_output=True, text=True, timeout=DRIVE_TIMEOUT)
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    kinds: dict[str, Any] = {}
    for record in records:
        kinds.setdefault(record["kind"], []).append(record)
    assert done.returncode == 0 and "summary" in kinds, (
        f"drive.js exited {done.returncode}:\n{done.stderr[-3000:]}\n{kinds.get('fatal')}\n"
        f"webhook log:\n{log.read_text()[-3000:]}")
    (directory / "records.json").write_text(json.dumps(kinds), encoding="utf-8")


def model_samples() -> list[tuple[str, str]]:
    intents = json.loads(MODEL.read_text())["interactionModel"]["languageModel"]["intents"]
    return [(i["name"], s) for i in intents for s in i.get("samples", [])]


def model_builtins() -> list[str]:
    intents = json.loads(MODEL.read_text())["interactionModel"]["languageModel"]["intents"]
    return [i["name"] for i in intents if i["name"].startswith("AMAZON.")]


def medical_terms() -> set[str]:
    types = json.loads(MODEL.read_text())["interactionModel"]["languageModel"]["types"]
    return {v["name"]["value"] for t in types if t["name"] == "MEDICAL_TERM" for v in t["values"]}


def answer_problems(record: dict[str, Any]) -> list[str]:
    """What is wrong with one turn's answer (empty when it is a well-formed answer)."""
    if not record["ok"]:
        return [f"HTTP failure: status={record.get('http_status')} {record.get('error')}"]
    problems = []
    if record["http_status"] != 200:
        problems.append(f"status {record['http_status']}")
    ssml = record.get("ssml")
    if not ssml:
        return [*problems, "no outputSpeech SSML"]
    if record["ssml_length"] > MAX_SPEECH_CHARS:
        problems.append(f"SSML is {record['ssml_length']} characters")
    if ERROR_APOLOGY.lower() in ssml.lower():
        problems.append("the skill's error apology")
    try:
        if parse_ssml(ssml).tag != "speak":
            problems.append("SSML root is not <speak>")
    except Exception as exc:
        problems.append(f"SSML does not parse: {exc}")
    return problems


def failures(records: list[dict[str, Any]]) -> list[str]:
    return [f"{r.get('expected')} {r.get('text')!r}: {'; '.join(p)}"
            for r in records if (p := answer_problems(r))]


# --- the assertions ----------------------------------------------------------

def test_launch_is_answered(run):
    [launch] = run["launch"]
    assert launch["request_type"] == "LaunchRequest"
    assert not answer_problems(launch), answer_problems(launch)
    assert launch["has_reprompt"] and not launch["should_end_session"]


def test_every_sample_is_sent_or_skipped_with_reason(run):
    seen = [(r["expected"], r["sample"]) for r in run.get("sample", []) + run.get("skipped", [])]
    assert sorted(seen) == sorted(model_samples())
    summary = run["summary"][0]
    assert summary["sample"] == len(run.get("sample", [])) and summary["skipped"] == len(run.get("skipped", []))


def test_few_samples_are_skipped(run):
    """Skipped: samples with a launch word, which virtual-alexa sends as LaunchRequest."""
    skipped = run.get("skipped", [])
    for record in skipped:
        assert LAUNCH_WORDS.search(record["sample"]), record
    total = len(model_samples())
    assert len(skipped) <= MAX_SKIPPED_SHARE * total, (
        f"{len(skipped)} of {total} samples skipped for virtual-alexa's launch words: "
        + ", ".join(repr(r["sample"]) for r in skipped))


def test_every_sample_gets_a_well_formed_answer(run):
    samples = run["sample"]
    assert len(samples) > 500
    bad = failures(samples)
    assert not bad, f"{len(bad)} of {len(samples)} samples:\n" + "\n".join(bad[:40])


def test_intent_sent_is_the_samples_intent(run):
    wrong, stale = [], []
    for r in run["sample"]:
        key = (r["expected"], r["sample"])
        matches = r["request_type"] == "IntentRequest" and r["intent"] == r["expected"]
        if key in MISRESOLVED_ALLOWED:
            if matches:
                stale.append(key)
        elif not matches:
            wrong.append(f"{r['expected']} {r['text']!r} -> {r['request_type']} {r['intent']}")
    assert not wrong, "virtual-alexa sent another intent:\n" + "\n".join(wrong)
    assert not stale, f"allow-listed samples now resolve correctly, drop them: {stale}"


def test_slot_values_are_sent_and_resolved(run):
    slotted = [r for r in run["sample"] if r["slots"]]
    assert slotted
    sent_terms = set()
    for r in slotted:
        for name, value in r["slots"].items():
            slot = (r["sent_slots"] or {}).get(name)
            assert slot and slot["value"] == value and slot["resolution"] == "ER_SUCCESS_MATCH", r
            sent_terms.add(value)
    assert sent_terms == medical_terms()


def test_every_builtin_via_intend(run):
    builtins = run["builtin"]
    assert sorted(r["expected"] for r in builtins) == sorted(model_builtins())
    assert "AMAZON.FallbackIntent" in {r["expected"] for r in builtins}
    for r in builtins:
        assert r["request_type"] == "IntentRequest" and r["intent"] == r["expected"], r
    bad = failures(builtins)
    assert not bad, "\n".join(bad)


def test_virtual_alexas_builtin_phrases(run):
    phrases = run["phrase"]
    assert {r["expected"] for r in phrases} >= {"AMAZON.HelpIntent", "AMAZON.StopIntent",
                                                "AMAZON.CancelIntent", "AMAZON.YesIntent", "AMAZON.NoIntent"}
    for r in phrases:
        assert r["intent"] == r["expected"], r
    bad = failures(phrases)
    assert not bad, "\n".join(bad)


def test_session_attributes_round_trip(run):
    """A topic then "repeat" in one session: the repeat needs the attributes virtual-alexa hands back."""
    topic, repeat = run["followup"]
    assert topic["session_new"] is True and repeat["session_new"] is False
    assert repeat["intent"] == "AMAZON.RepeatIntent"
    assert not answer_problems(topic) and not answer_problems(repeat)
    assert repeat["ssml"] == topic["ssml"]


def test_no_turn_failed(run):
    assert run["summary"][0]["failed"] == 0
    assert not run.get("session_end_failed")


# --- without the registry: a skip with the reason, never an error ----------------

CLOSED_REGISTRY = "http://127.0.0.1:9/"   # the discard port, closed: connection refused at once


def test_unreachable_registry_skips_with_the_reason(tmp_path):
    npm = shutil.which("npm")
    if not npm:
        pytest.skip("needs npm on PATH")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(INTEROP / name, tmp_path / name)
    env = {**os.environ, "npm_config_registry": CLOSED_REGISTRY, "npm_config_cache": str(tmp_path / "cache"),
           "npm_config_update_notifier": "false"}
    assert "ECONNREFUSED" in registry_unreachable(npm, env)
    with pytest.raises(pytest.skip.Exception, match=r"npm registry unreachable.*ECONNREFUSED"):
        npm_ci(npm, tmp_path, env)
    assert not (tmp_path / "node_modules").exists()


@pytest.mark.parametrize("output, network", [
    ("npm error code ECONNREFUSED\nFetchError: request to http://127.0.0.1:9/x failed", True),
    ("npm error code ENOTFOUND\nnpm error syscall getaddrinfo", True),
    ("npm error code EAI_AGAIN", True),
    ("npm error code ETIMEDOUT", True),
    ("npm error code EUSAGE\nnpm ci can only install with an existing package-lock.json", False),
    ("npm error code EINTEGRITY sha512 mismatch", False),
])
def test_network_failures_are_told_from_broken_installs(output, network):
    assert is_network_failure(output) is network
