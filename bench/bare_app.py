"""The webhook baseline: a bare Flask route that returns the same JSON our skill answers, nothing else."""
from __future__ import annotations

import json

from flask import Flask, Response

from skill.skill import invoke
from testkit import envelopes

# Our skill's real answer to the benchmark's question, computed once at start-up.
BODY = json.dumps(invoke(envelopes.envelope(envelopes.intent("WhereItSpreadsIntent"))), separators=(",", ":"))

app = Flask(__name__)


@app.post("/alexa")
def alexa() -> Response:
    return Response(BODY, mimetype="application/json")


@app.get("/health")
def health() -> Response:
    return Response('{"status": "ok"}', mimetype="application/json")




# A second baseline for context: the SDK's own hello-world skill behind a plain
# Flask route (no verification), i.e. what any ask-sdk webhook pays per request.
sdk_app = Flask("sdk_hello")


@sdk_app.post("/alexa")
def sdk_alexa() -> Response:
    from flask import request

    from bench.hello import handler
    return Response(json.dumps(handler(json.loads(request.get_data()), None)), mimetype="application/json")


@sdk_app.get("/health")
def sdk_health() -> Response:
    return Response('{"status": "ok"}', mimetype="application/json")
