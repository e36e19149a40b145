"""What the skill says, as pure functions of content: no SDK objects here.

Handlers pick a reply; `render` (in handlers) turns it into an Alexa response.
Keeping replies pure makes every answer testable and lets Repeat replay the
exact words later.
"""
from __future__ import annotations

from typing import NamedTuple

from .content import CONTENT, Content, Term, Topic
from .speech import join, to_ssml, with_pause


class Card(NamedTuple):
    """A card for the Alexa app: a title and plain text."""

    title: str
    content: str


class Reply(NamedTuple):
    """One turn of speech.

    ``reprompt`` None closes the session; ``topic`` and ``offer`` are the topic
    the listener is on (for "tell me more") and the one just offered (for "yes").
    """

    speech: str
    reprompt: str | None = None
    card: Card | None = None
    topic: str | None = None
    offer: str | None = None

    @property
    def ends_session(self) -> bool:
        return self.reprompt is None


def prompt(key: str, content: Content = CONTENT, **values: str) -> str:
    """A prompt from the content file, formatted, as SSML."""
    return to_ssml(content.prompts[key].format(**values))


def ask(key: str, reprompt_key: str | None = None, content: Content = CONTENT) -> Reply:
    """A question that keeps the session open."""
    return Reply(speech=prompt(key, content), reprompt=prompt(reprompt_key or "ask_again", content))


def _source_line(content: Content) -> str:
    return content.prompts["card_source"].format(**content.source)


def _answer(text: str, doctor_index: int, title: str, next_topic: Topic,
            topic_id: str, content: Content) -> Reply:
    """Answer, pause, see-a-doctor line, then the offer of what to hear next."""
    doctor = content.doctor_line(doctor_index)
    offer = prompt("offer", content, label=next_topic.label)
    return Reply(
        speech=join(with_pause(to_ssml(text), to_ssml(doctor)), offer),
        reprompt=offer,
        card=Card(title, f"{text}\n\n{doctor}\n\n{_source_line(content)}"),
        topic=topic_id,
        offer=next_topic.id,
    )


def topic_answer(topic: Topic, content: Content = CONTENT) -> Reply:
    """The short spoken answer for a topic."""
    return _answer(topic.answer, topic.index, topic.title,
                   content.topic_by_id[topic.next], topic.id, content)


def topic_more(topic: Topic, content: Content = CONTENT) -> Reply:
    """The longer answer, for "tell me more"."""
    return _answer(topic.more, topic.index + 1, f"{topic.title}: more detail",
                   content.topic_by_id[topic.next], topic.id, content)


def term_answer(term: Term, content: Content = CONTENT) -> Reply:
    """A glossary definition, offering the topic it belongs to."""
    related = content.topic_by_id[term.topic]
    return _answer(term.answer, len(content.topics) + term.index, term.title,
                   related, related.id, content)


def emergency(locale: str | None, content: Content = CONTENT) -> Reply:
    """Red-flag symptoms: send them to emergency services and end the session."""
    info = content.locale(locale)
    spoken = content.prompts["emergency"].format(number=info.emergency_spoken)
    written = content.prompts["emergency"].format(number=info.emergency_number)
    title = content.prompts["emergency_card_title"].format(number=info.emergency_number)
    return Reply(speech=to_ssml(spoken), card=Card(title, written))


def goodbye(content: Content = CONTENT) -> Reply:
    return Reply(speech=prompt("goodbye", content))
