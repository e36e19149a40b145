"""Cold start: a fresh interpreter imports a Lambda entry and answers one LaunchRequest.

Run as ``python -m bench.coldstart MODULE`` it prints one JSON line:
import+first-response milliseconds and the process's peak RSS.
"""
from __future__ import annotations

import time

START = time.perf_counter()

import importlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402

LAUNCH = {
    "version": "1.0",
    "session": {"new": True, "sessionId": "amzn1.echo-api.session.bench", "attributes": {},
                "application": {"applicationId": "amzn1.ask.skill.bench"},
                "user": {"userId": "amzn1.ask.account.bench"}},
    "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.bench"},
                           "user": {"userId": "amzn1.ask.account.bench"},
                           "device": {"deviceId": "amzn1.ask.device.bench", "supportedInterfaces": {}},
                           "apiEndpoint": "https://api.amazonalexa.com"}},
    "request": {"type": "LaunchRequest", "requestId": "amzn1.echo-api.request.bench",
                "timestamp": "2026-11-27T20:00:00Z", "locale": "en-US"},
}


def main(module: str) -> None:
    handler = importlib.import_module(module).handler
    response = handler(LAUNCH, None)
    elapsed = (time.perf_counter() - START) * 1000
    assert response["response"]["outputSpeech"]["ssml"]
    # VmHWM, not getrusage: ru_maxrss survives exec and would report the parent's size.
    with open("/proc/self/status") as status:
        peak_kib = int(re.search(r"VmHWM:\s+(\d+)", status.read())[1])
    print(json.dumps({"ms": elapsed, "peak_rss_mib": peak_kib / 1024}))


if __name__ == "__main__":
    main(sys.argv[1])
