"""A local Alexa simulator for any custom skill's interaction model.

nlu: utterance -> intent + slots from the model file alone; envelopes: request
JSON as Alexa sends it; client: sessions and targets (in-process handler or
HTTP endpoint); alexa_api and consent: Alexa's side of a skill's API calls
(a local Alexa API on loopback, permissions, the voice consent dialog); cli:
`python -m simulator`.
"""

from .alexa_api import AlexaApi
from .client import Conversation, HttpTarget, InProcessTarget, TargetError, Turn, load_handler
from .consent import AlexaSide
from .envelopes import Identity, SessionInfo
from .invocation import Invocation, parse_invocation
from .nlu import FUZZY_THRESHOLD, Candidate, InteractionModel, ModelError, Resolution
from .normalize import normalize, tokenize

__all__ = [
    "AlexaApi", "AlexaSide", "FUZZY_THRESHOLD", "Candidate", "Conversation", "HttpTarget", "Identity", "InProcessTarget",
    "InteractionModel", "Invocation", "ModelError", "Resolution", "SessionInfo", "TargetError", "Turn",
    "load_handler", "normalize", "parse_invocation", "tokenize",
]
