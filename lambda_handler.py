"""AWS Lambda entry point: ``lambda_handler.handler``.

Alexa invokes the function with the request envelope as a dict and takes the
returned dict as the response. When ``SKILL_ID`` is set (one id, or several
separated by commas), requests for any other skill are refused before the skill
runs.

A request that fails (an envelope the SDK cannot read, or a bug) is logged by
exception type and place only, and re-raised as ``RequestFailed`` with no
message of its own: the SDK's messages quote the value they could not read (a
user id, say), and Lambda writes an uncaught exception's message to the log.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any

from skill.appid import WrongApplication, check_application_id, parse_skill_ids
from skill.logs import request_summary, where
from skill.skill import invoke

logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))
log = logging.getLogger("skill.lambda")
SKILL_IDS = parse_skill_ids(os.environ.get("SKILL_ID"))


class RequestFailed(RuntimeError):
    """The request could not be answered; the log line before says what failed and where."""


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    started = time.perf_counter()
    outcome = "error"
    try:
        check_application_id(event, SKILL_IDS)
        response = invoke(event, context)
        outcome = "ok"
        return response
    except WrongApplication:  # its message is fixed and names no value
        outcome = "wrong_application_id"
        raise
    except Exception as exc:
        log.error("request failed: %s at %s", type(exc).__name__, where(exc))
        raise RequestFailed(type(exc).__name__) from None
    finally:
        log.info("%s outcome=%s latency_ms=%.1f", request_summary(event), outcome,
                 (time.perf_counter() - started) * 1000)
