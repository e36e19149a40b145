"""Skill wiring: the ask-sdk skill, built once per process, and a dict-in/dict-out entry.

Building the skill is the expensive part of a request in ask-sdk's own
``SkillBuilder.lambda_handler`` (it rebuilds its configuration on every call),
so we build it at import and reuse it for every request, on Lambda and in the
webhook alike.
"""
from __future__ import annotations

from typing import Any

from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_model import RequestEnvelope

from .handlers import REQUEST_HANDLERS, CatchAllExceptionHandler


def build_skill() -> CustomSkill:
    builder = SkillBuilder()
    for handler in REQUEST_HANDLERS:
        builder.add_request_handler(handler)
    builder.add_exception_handler(CatchAllExceptionHandler())
    return builder.create()


SKILL = build_skill()
_SERIALIZER = DefaultSerializer()


def parse_envelope(event: dict[str, Any]) -> RequestEnvelope:
    """Typed envelope from a JSON-ready dict; raises on shapes the SDK cannot read.

    The public ``deserialize`` wants a JSON string, which would mean dumping
    the dict we just parsed only to parse it again; the serializer's own
    dict-level step (name-mangled, stable across the pinned 1.x) skips that.
    """
    return _SERIALIZER._DefaultSerializer__deserialize(event, RequestEnvelope)


def invoke(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Answer one Alexa request envelope (a dict) with a response envelope (a dict)."""
    response = SKILL.invoke(request_envelope=parse_envelope(event), context=context)
    return _SERIALIZER.serialize(response)
