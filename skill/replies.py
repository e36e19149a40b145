"""What the skill says, as pure functions of content: no SDK objects here.

Handlers pick a reply; the handlers' ``respond`` turns it into an Alexa response.
Keeping replies pure makes every answer testable and lets Repeat replay the
exact words later.

``previous`` is the plain text of what the skill said on the last turn. Lines
that vary (doctor lines, offers, the safety net) never repeat a sentence the
listener has just heard: only Repeat and "say that slower" say the same thing
twice.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

from .content import CONTENT, Content, FollowUp, Lines, Term, Topic, ends_with_doctor, text
from .speech import join, to_ssml, with_pause


class Card(NamedTuple):
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


def fresh(candidates: Iterable[str], previous: str) -> str:
    """The first candidate the listener did not just hear (the first one if all were)."""
    options = list(candidates)
    return next((option for option in options if option not in previous), options[0])


def rotated(options: tuple[str, ...], start: int) -> list[str]:
    """The options starting at ``start``: spreads variants across answers."""
    start %= len(options)
    return [*options[start:], *options[:start]]


def prompt(key: str, content: Content = CONTENT, **values: str) -> str:
    """A prompt from the content file, formatted, as SSML."""
    return to_ssml(content.prompts[key].format(**values))


def question(previous: str = "", content: Content = CONTENT) -> str:
    """The closing question of a prompt, not the one the listener just heard."""
    return fresh(content.prompts["questions"], previous)


def ask(key: str, reprompt_key: str | None = None, previous: str = "", content: Content = CONTENT) -> Reply:
    """A question that keeps the session open."""
    closing = question(previous, content)
    return Reply(speech=prompt(key, content, question=closing),
                 reprompt=prompt(reprompt_key or "ask_again", content, question=closing))


def safety_net(locale: str | None, previous: str = "", content: Content = CONTENT) -> str:
    """One short line with the local emergency number: the last line of defence."""
    number = content.locale(locale).emergency_spoken
    return fresh((line.format(number=number) for line in content.prompts["safety_net"]), previous)


def ask_with_safety_net(key: str, reprompt_key: str, locale: str | None, previous: str = "",
                        content: Content = CONTENT) -> Reply:
    """A prompt for when the skill did not understand, closing with the safety net.

    Alexa never tells the skill what an unmatched request said, so any of
    these could have been an emergency the model missed.
    """
    closing = question(previous, content)
    speech = join(prompt(key, content, question=closing), to_ssml(safety_net(locale, previous, content)))
    return Reply(speech=speech, reprompt=prompt(reprompt_key, content, question=closing))


def _source_line(content: Content) -> str:
    return content.prompts["card_source"].format(**content.source)


def _offers(first: Topic, exclude: str, content: Content) -> Iterator[tuple[Topic, str]]:
    """Topics to offer next, in order: the suggested one, then the ones after it.

    A generator: nearly every answer takes the first, so the rest are never built.
    """
    topic = first
    for _ in range(len(content.topics)):
        if topic.id != exclude:
            yield topic, content.prompts["offer"].format(label=topic.label)
        topic = content.topic_by_id[topic.next]


def _answer(lines: Lines, category: str, variant: int, title: str, next_topic: Topic,
            topic_id: str, previous: str, content: Content, *, exclude: str | None = None) -> Reply:
    """Answer, pause, a see-a-doctor line that fits, then the offer of what to hear next.

    The offer never names the topic just answered (``exclude``, by default the
    topic itself) and moves on when the listener has just heard it offered.
    """
    exclude = topic_id if exclude is None else exclude
    offers = _offers(next_topic, exclude, content)
    first = next(offers)
    answer = text(lines)
    doctor = "" if ends_with_doctor(lines) else fresh(
        rotated(content.doctor_lines(category), variant), previous)
    offered, offer = first if first[1] not in previous else next(
        ((t, line) for t, line in offers if line not in previous), first)
    spoken = with_pause(to_ssml(answer), to_ssml(doctor)) if doctor else to_ssml(answer)
    card = "\n\n".join(part for part in (answer, doctor, _source_line(content)) if part)
    return Reply(
        speech=join(spoken, to_ssml(offer)),
        reprompt=to_ssml(offer),
        card=Card(title, card),
        topic=topic_id,
        offer=offered.id,
    )


def topic_answer(topic: Topic, previous: str = "", content: Content = CONTENT) -> Reply:
    """The short spoken answer for a topic."""
    return _answer(topic.answer_lines, topic.doctor, topic.index, topic.title,
                   content.topic_by_id[topic.next], topic.id, previous, content)


def topic_more(topic: Topic, previous: str = "", content: Content = CONTENT) -> Reply:
    """The longer answer, for "tell me more"."""
    return _answer(topic.more_lines, topic.doctor, topic.index + 1, f"{topic.title}: more detail",
                   content.topic_by_id[topic.next], topic.id, previous, content)


def follow_up(kind: FollowUp, topic: Topic, previous: str = "", content: Content = CONTENT) -> Reply:
    """A question pointing back at the current topic: the topic that answers it, else the longer answer."""
    target = content.topic_by_id.get(kind.topics.get(topic.id, ""))
    return topic_answer(target, previous, content) if target else topic_more(topic, previous, content)


def term_answer(term: Term, previous: str = "", content: Content = CONTENT) -> Reply:
    """A glossary definition, offering the topic it belongs to."""
    related = content.topic_by_id[term.topic]
    return _answer(term.answer_lines, related.doctor, term.index, term.title,
                   related, related.id, previous, content, exclude="")


def spoken_name(term: Term) -> str:
    """A term's title as said inside a sentence: "radiation therapy", but "PSA" and "CT scan" stay."""
    title = term.title
    return title if title[1:2].isupper() else title[:1].lower() + title[1:]


def _gist(term: Term) -> Lines:
    """One sentence on the term for two-term answers; its definition's first sentence if it has none."""
    return (term.gist,) if term.gist is not None else term.answer_lines[:1]


def two_terms_answer(first: Term, second: Term, previous: str = "", content: Content = CONTENT) -> Reply:
    """Two things asked at once ("tell me about radiation and radiopharmaceuticals").

    The first is answered in full; the second gets its one-line gist and is
    offered by name, so "yes" hears its topic. The same term twice is one answer.
    """
    if first.id == second.id:
        return term_answer(first, previous, content)
    topic = content.topic_by_id[first.topic]
    offer = content.topic_by_id[second.topic]
    title = f"{first.title} and {second.title}"
    return _answer((*first.answer_lines, *_gist(second)), topic.doctor, first.index, title,
                   offer, topic.id, previous, content, exclude="" if offer.id != topic.id else topic.id)


def compare_answer(first: Term, second: Term, previous: str = "", content: Content = CONTENT) -> Reply:
    """ "What's the difference between denosumab and Zometa?": what the article says of each, briefly.

    Where the article relates the two, that line follows; where it says nothing
    that compares them, the reply says so and offers each by name.
    """
    if first.id == second.id:
        return term_answer(first, previous, content)
    lines = (*_gist(first), *_gist(second))
    topic = content.topic_by_id[first.topic]
    note = content.two_terms.note(first.id, second.id)
    title = f"{first.title} and {second.title}"
    if note is not None:
        return _answer((*lines, note.line), topic.doctor, first.index, title,
                       content.topic_by_id[second.topic], topic.id, previous, content, exclude="")
    names = {"first": spoken_name(first), "second": spoken_name(second)}
    choice = content.prompts["compare_none"].format(**names)
    ask_again = content.prompts["compare_none_reprompt"].format(**names)
    answer = text(lines)
    return Reply(speech=join(to_ssml(answer), to_ssml(choice)), reprompt=to_ssml(ask_again),
                 card=Card(title, "\n\n".join((answer, choice, _source_line(content)))), topic=topic.id)


def emergency(locale: str | None, *, asked_to_call: bool = False, content: Content = CONTENT) -> Reply:
    """Red-flag symptoms: the local emergency number, said twice, and on the card as digits.

    ``asked_to_call`` ("call an ambulance"): a skill cannot place calls, so the
    reply says so first. The session stays open so a listener who missed the
    number can say "repeat"; the reprompt says the number once more.
    """
    info = content.locale(locale)
    opening = content.prompts["emergency_call_opening" if asked_to_call else "emergency_opening"]
    spoken = content.prompts["emergency"].format(opening=opening, number=info.emergency_spoken,
                                                 department=info.emergency_department)
    written = content.prompts["emergency"].format(opening=opening, number=info.emergency_number,
                                                  department=info.emergency_department_written)
    title = content.prompts["emergency_card_title"].format(number=info.emergency_number)
    return Reply(speech=to_ssml(spoken),
                 reprompt=prompt("emergency_reprompt", content, number=info.emergency_spoken),
                 card=Card(title, written))


def crisis(locale: str | None, content: Content = CONTENT) -> Reply:
    """Thoughts of suicide or self-harm: calm words, the local crisis line, and the emergency number."""
    info = content.locale(locale)
    spoken = content.prompts["crisis"].format(line=info.crisis_name, number=info.crisis_spoken,
                                              emergency=info.emergency_spoken)
    written = content.prompts["crisis"].format(line=info.crisis_name, number=info.crisis_number,
                                               emergency=info.emergency_number)
    title = content.prompts["crisis_card_title"].format(number=info.crisis_number)
    return Reply(speech=to_ssml(spoken), reprompt=prompt("crisis_reprompt", content),
                 card=Card(title, written))


def goodbye(content: Content = CONTENT) -> Reply:
    return Reply(speech=prompt("goodbye", content))
