"""Shared fixtures: the two ways a request reaches the skill (Lambda and webhook)."""
from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest

import lambda_handler
from skill.speech import plain_text
from webhook.app import create_app


def via_lambda(env: dict[str, Any]) -> dict[str, Any]:
    return lambda_handler.handler(env, None)


@pytest.fixture(scope="session")
def dev_client():
    return create_app(mode="development").test_client()


@pytest.fixture(params=["lambda", "webhook"])
def send(request, dev_client):
    """Send an envelope through the Lambda entry or the dev webhook's POST /alexa."""
    if request.param == "lambda":
        return via_lambda

    def post(env: dict[str, Any]) -> dict[str, Any]:
        reply = dev_client.post("/alexa", json=env)
        assert reply.status_code == 200, reply.get_data(as_text=True)
        return reply.get_json()
    return post


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
