"""A local Alexa simulator for any custom skill's interaction model.

nlu: utterance -> intent + slots from the model file alone; envelopes: request
JSON as Alexa sends it; client: sessions and targets (in-process handler or
HTTP endpoint); cli: `python -m simulator`.
"""

from .client import Conversation, HttpTarget, InProcessTarget, TargetError, Turn, load_handler
from .envelopes import Identity, SessionInfo
from .invocation import Invocation, parse_invocation
from .nlu import FUZZY_THRESHOLD, Candidate, InteractionModel, ModelError, Resolution
from .normalize import normalize, tokenize

__all__ = [
    "FUZZY_THRESHOLD", "Candidate", "Conversation", "HttpTarget", "Identity", "InProcessTarget",
    "InteractionModel", "Invocation", "ModelError", "Resolution", "SessionInfo", "TargetError", "Turn",
    "load_handler", "normalize", "parse_invocation", "tokenize",
]
