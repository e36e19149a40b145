"""Skill wiring: the ask-sdk skill, built once per process, and a dict-in/dict-out entry.

Building the skill is the expensive part of a request in ask-sdk's own
``SkillBuilder.lambda_handler`` (it rebuilds its configuration on every call),
so we build it at import and reuse it for every request, on Lambda and in the
webhook alike.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_model import Context, RequestEnvelope
from ask_sdk_model.interfaces.system import SystemState

from .api_client import TimeoutApiClient
from .handlers import REQUEST_HANDLERS, CatchAllExceptionHandler


def build_skill() -> CustomSkill:
    """The skill, with an API client for the Alexa APIs it calls (reminders, time zone)."""
    builder = CustomSkillBuilder(api_client=TimeoutApiClient())
    for handler in REQUEST_HANDLERS:
        builder.add_request_handler(handler)
    builder.add_exception_handler(CatchAllExceptionHandler())
    return builder.create()


@lru_cache(maxsize=None)
def _model_fields(model: type) -> tuple[tuple[tuple[str, str, str], ...], frozenset[str]]:
    """``((attribute, payload key, declared type), ...)`` of an SDK model class, and its payload keys.

    The SDK works this out again for every object of every request (merging
    ``attribute_map`` with ``deserialized_types``, then a linear scan per key
    for unknown ones); a model class never changes, so once is enough.
    """
    names = {**{name: name for name in model.deserialized_types}, **getattr(model, "attribute_map", {})}
    fields = tuple((attribute, key, model.deserialized_types[attribute]) for attribute, key in names.items())
    return fields, frozenset(names.values())


class Serializer(DefaultSerializer):
    """The SDK's serializer without its per-request hot spots.

    Profiling a topic answer showed two thirds of the time in deserialising the
    envelope: a quarter in ``dateutil`` parsing one ISO timestamp, and much of
    the rest re-importing each model class by name for every object. Alexa's
    timestamps are plain ISO 8601, which ``datetime.fromisoformat`` reads
    directly (dateutil stays the fallback), and class names never change, so
    their lookup is cached, as is each model class's field list. These
    override the base class's name-mangled helpers, which is how its own code
    calls them (pinned ask-sdk-core 1.x); the results are the same objects.
    ``OVERRIDDEN`` names them so a test fails if an SDK upgrade drops them.
    """

    OVERRIDDEN = ("_DefaultSerializer__load_class_from_name", "_DefaultSerializer__deserialize_datetime",
                  "_DefaultSerializer__deserialize_model")

    def __init__(self) -> None:
        super().__init__()
        # Per instance, not functools.cache on the method: that would key on (and keep alive) self.
        self._classes: dict[str, Any] = {}

    def _DefaultSerializer__load_class_from_name(self, class_name: str) -> Any:  # noqa: N802
        cls = self._classes.get(class_name)
        if cls is None:
            cls = self._classes[class_name] = super()._DefaultSerializer__load_class_from_name(class_name)
        return cls

    def _DefaultSerializer__deserialize_datetime(self, payload: Any, obj_type: Any) -> Any:  # noqa: N802
        if isinstance(payload, str):
            try:
                parsed = datetime.fromisoformat(payload)
            except ValueError:
                pass
            else:
                return parsed.date() if obj_type is date else parsed
        return super()._DefaultSerializer__deserialize_datetime(payload, obj_type)

    def _DefaultSerializer__deserialize_model(self, payload: Any, obj_type: Any) -> Any:  # noqa: N802
        """The base class's model step, with the field list of each class computed once."""
        try:
            if issubclass(obj_type, Enum):
                return obj_type(payload)
            if not hasattr(obj_type, "deserialized_types"):
                return payload
            if hasattr(obj_type, "get_real_child_model"):
                obj_type = self._DefaultSerializer__get_obj_by_discriminator(payload, obj_type)
            fields, known = _model_fields(obj_type)
            model = obj_type()
            deserialize = self._DefaultSerializer__deserialize
            for attribute, key, declared in fields:
                if key in payload:
                    setattr(model, attribute, deserialize(payload[key], declared))
            for key in payload:
                if key not in known:
                    setattr(model, key, payload[key])
            return model
        except Exception as exc:  # the base class wraps every failure the same way
            raise SerializationException(str(exc)) from None


SKILL = build_skill()
_SERIALIZER = Serializer()


def parse_envelope(event: dict[str, Any]) -> RequestEnvelope:
    """Typed envelope from a JSON-ready dict; raises on shapes the SDK cannot read.

    Through the public ``deserialize``, which wants a JSON string: dumping the
    dict again costs about 15 µs a request (44 -> 59 µs measured), too little to lean on a third
    private SDK method for.
    """
    return _SERIALIZER.deserialize(json.dumps(event), RequestEnvelope)


def invoke(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Answer one Alexa request envelope (a dict) with a response envelope (a dict)."""
    envelope = parse_envelope(event)
    if envelope.context is None or envelope.context.system is None:
        # With an API client the SDK reads context.System before any handler runs;
        # an envelope without one still deserves an answer, not an AttributeError.
        envelope.context = Context(system=SystemState())
    response = SKILL.invoke(request_envelope=envelope, context=context)
    return _SERIALIZER.serialize(response)
