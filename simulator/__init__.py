"""A local Alexa simulator for any custom skill's interaction model.

Understanding: normalize (typed text made to look like Alexa's speech
recognition), invocation (launch, one-shot, exit or plain talk), builtins (the
phrases Alexa supplies for built-in intents), nlu (utterance -> intent + slots
from the model file alone). Talking to a skill: envelopes (request JSON as
Alexa sends it), client (sessions and targets: in-process handler or HTTP
endpoint). Front ends: cli (`python -m simulator`), web (the browser page),
devserver (`make run`: the development webhook plus the page), alexa_api and
consent (Alexa's side of a skill's API calls: a local Alexa API on loopback,
permissions, the voice consent dialog), speech and ssml
(answers read aloud with espeak-ng).
"""

from .alexa_api import AlexaApi
from .client import Conversation, HttpTarget, InProcessTarget, TargetError, Turn, load_handler
from .consent import AlexaSide
from .envelopes import Identity, SessionInfo
from .invocation import Invocation, parse_invocation
from .nlu import FUZZY_THRESHOLD, Candidate, InteractionModel, ModelError, Resolution
from .normalize import normalize, tokenize

__all__ = [
    "AlexaApi", "AlexaSide", "FUZZY_THRESHOLD", "Candidate", "Conversation", "HttpTarget", "Identity",
    "InProcessTarget",
    "InteractionModel", "Invocation", "ModelError", "Resolution", "SessionInfo", "TargetError", "Turn",
    "load_handler", "normalize", "parse_invocation", "tokenize",
]
