"""The webhook baseline: a bare Flask route that returns a fixed skill response, nothing else."""
from __future__ import annotations

import json
from pathlib import Path

from flask import Flask, Response

BODY = json.dumps({"version": "1.0", "response": {
    "outputSpeech": {"type": "SSML", "ssml": "<speak>" + "Hello world. " * 30 + "</speak>"},
    "shouldEndSession": True}})

app = Flask(__name__)


@app.post("/alexa")
def alexa() -> Response:
    return Response(BODY, mimetype="application/json")


@app.get("/health")
def health() -> Response:
    return Response('{"status": "ok"}', mimetype="application/json")


__all__ = ["app", "Path"]
