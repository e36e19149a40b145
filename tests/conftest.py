"""Shared fixtures: the two ways a request reaches the skill (Lambda and webhook), the run's Lambda zip."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable
from xml.etree import ElementTree

import pytest

import lambda_handler
from skill.speech import plain_text
from testkit.once import built_once
from webhook.app import create_app


@pytest.fixture(scope="session")
def lambda_zip(tmp_path_factory) -> Path:
    """dist/lambda.zip as `make package` builds it: built once per run, shared by every xdist worker."""
    from deploy import package_lambda
    return built_once(tmp_path_factory, "lambda-zip", lambda d: package_lambda.build(d / "lambda.zip")) / "lambda.zip"


def via_lambda(env: dict[str, Any]) -> dict[str, Any]:
    return lambda_handler.handler(env, None)


@pytest.fixture(scope="session")
def dev_client():
    return create_app(mode="development").test_client()


def via_webhook(client) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """POST each envelope to a webhook test client's /alexa and insist on a 200."""
    def post(env: dict[str, Any]) -> dict[str, Any]:
        reply = client.post("/alexa", json=env)
        assert reply.status_code == 200, reply.get_data(as_text=True)
        return reply.get_json()
    return post


@pytest.fixture
def send():
    """Skill behaviour is tested once, through the Lambda entry (the webhook calls the same ``invoke``)."""
    return via_lambda


@pytest.fixture(params=["lambda", "webhook"])
def each_entry(request, dev_client):
    """For the few parity tests: the Lambda entry, then the dev webhook's POST /alexa."""
    return via_lambda if request.param == "lambda" else via_webhook(dev_client)


# --- reading responses ----------------------------------------------------

def ssml(response: dict[str, Any]) -> str:
    return response["response"]["outputSpeech"]["ssml"]


def speech(response: dict[str, Any]) -> str:
    return plain_text(ssml(response))


def reprompt(response: dict[str, Any]) -> str | None:
    rep = response["response"].get("reprompt")
    return plain_text(rep["outputSpeech"]["ssml"]) if rep else None


def ends(response: dict[str, Any]) -> bool:
    return response["response"].get("shouldEndSession") is True


def card(response: dict[str, Any]) -> dict[str, Any] | None:
    return response["response"].get("card")


def parse_ssml(text: str) -> ElementTree.Element:
    """Parse SSML as XML: raises if anything is unescaped or unbalanced."""
    root = ElementTree.fromstring(text)
    assert root.tag == "speak"
    return root


# --- what a quiet run must still say ---------------------------------------

ARTICLE_MISSING = "shared/article.txt not beside the repo"   # the skip reason of tests/test_content.py


def note_missing_article(terminalreporter) -> None:
    """Even under -q: say when the source article was missing, so its checks were skipped, not passed."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if ARTICLE_MISSING in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(
            f"NOTE: {len(skipped)} content tests skipped: ../shared/article.txt is not beside the repository, "
            "so the quotes were not checked against the source article.", yellow=True, bold=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """After the run: the understanding tables (tests/test_understanding.py), in set order, then the seed.

    The tables are read from each report's user_properties, which pytest-xdist
    carries back from its workers, so they show however the suite was run. The
    random-order seed comes last, even under -q, with the command that repeats the order.
    """
    tables = sorted({value for reports in terminalreporter.stats.values() for report in reports
                     if getattr(report, "when", None) == "call"
                     for key, value in getattr(report, "user_properties", ()) if key == "understanding"})
    if tables:
        terminalreporter.section("understanding: simulator and device-side estimate, by kind")
        for _, text in tables:
            terminalreporter.write_line(text + "\n")
    note_missing_article(terminalreporter)
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and config.pluginmanager.has_plugin("randomly"):
        terminalreporter.write_line(f"random order seed {seed}; the same order again: "
                                    f"make test PYTEST_ARGS=--randomly-seed={seed}")
