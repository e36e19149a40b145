"""Phrases Alexa itself supplies for standard built-in intents.

Models declare these intents with empty samples; Alexa still understands the
usual phrases.  The simulator honours a phrase only when the model declares the
intent, as Alexa does.  Keep this table small: it is a stand-in, not a corpus.
"""

from __future__ import annotations

BUILTIN_PHRASES: dict[str, tuple[str, ...]] = {
    "AMAZON.HelpIntent": (
        "help", "help me", "i need help", "what can i say", "what can you do",
        "what do i say", "how does this work", "how do i use this", "what are my options",
        "what can i ask", "what can i ask you", "what should i say", "what should i ask",
        "what do i ask", "what can you help me with", "what can i do",
    ),
    "AMAZON.StopIntent": (
        "stop", "shut up", "off", "be quiet", "quiet", "enough", "that is enough",
        "stop it", "please stop", "goodbye", "bye", "bye bye", "i am finished", "we are done",
    ),
    "AMAZON.CancelIntent": (
        "cancel", "never mind", "nevermind", "forget it", "cancel that", "cancel it",
    ),
    "AMAZON.YesIntent": (
        "yes", "yeah", "yep", "yup", "sure", "yes please", "ok", "of course",
        "sounds good", "absolutely", "please do", "correct",
    ),
    "AMAZON.NoIntent": (
        "no", "nope", "no thanks", "no thank you", "nah", "not really", "no way",
    ),
    "AMAZON.RepeatIntent": (
        "repeat", "repeat that", "say that again", "what did you say",
        "can you repeat that", "again", "pardon", "come again", "one more time",
    ),
    "AMAZON.StartOverIntent": ("start over", "restart", "start again", "begin again", "can we start over",
                               "start from the beginning", "let's begin again"),
    "AMAZON.NavigateHomeIntent": ("go home", "home", "go to the home screen"),
    "AMAZON.PauseIntent": ("pause", "pause that", "hold on", "wait"),
    "AMAZON.ResumeIntent": ("resume", "continue", "keep going", "carry on"),
    "AMAZON.NextIntent": ("next", "next one", "skip", "skip this", "go on"),
    "AMAZON.PreviousIntent": ("previous", "go back", "back", "last one", "previous one"),
}

FALLBACK_INTENT = "AMAZON.FallbackIntent"
