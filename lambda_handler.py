"""AWS Lambda entry point: ``lambda_handler.handler``.

Alexa invokes the function with the request envelope as a dict and takes the
returned dict as the response. When ``SKILL_ID`` is set (one id, or several
separated by commas), requests for any other skill are refused before the skill
runs.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any

from skill.appid import check_application_id, parse_skill_ids
from skill.logs import request_summary
from skill.skill import invoke

logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))
log = logging.getLogger("skill.lambda")
SKILL_IDS = parse_skill_ids(os.environ.get("SKILL_ID"))


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    started = time.perf_counter()
    outcome = "error"
    try:
        check_application_id(event, SKILL_IDS)
        response = invoke(event, context)
        outcome = "ok"
        return response
    finally:
        log.info("%s outcome=%s latency_ms=%.1f", request_summary(event), outcome,
                 (time.perf_counter() - started) * 1000)
