"""The development server (``make run``): the webhook in development mode plus the browser page.

The simulator wraps the host, never the reverse: ``webhook.app`` builds the
same app production runs (without signature checks), and this module mounts
the page at ``GET /`` on top of it.
"""
from __future__ import annotations

import argparse
import os

from typing import Any, Callable

from flask import Flask

from skill.appid import parse_skill_ids
from skill.skill import invoke as invoke_skill
from webhook.app import DEVELOPMENT, configure_logging, create_app

from .web import create_blueprint


def create_dev_app(skill_ids: str | None = None,
                   invoke: Callable[[dict[str, Any]], dict[str, Any]] = invoke_skill) -> Flask:
    """The development webhook with the browser simulator mounted."""
    app = create_app(mode=DEVELOPMENT, skill_ids=skill_ids, invoke=invoke)
    app.register_blueprint(create_blueprint(invoke, skill_id=min(parse_skill_ids(skill_ids), default=None)))
    return app


def main(argv: list[str] | None = None) -> None:
    """``python -m simulator.devserver``: serve on loopback for local testing only."""
    parser = argparse.ArgumentParser(description="Development webhook and browser simulator for the skill.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    configure_logging()
    create_dev_app(os.environ.get("SKILL_ID")).run(host=args.host, port=args.port)


if __name__ == "__main__":
    main()
