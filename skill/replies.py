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

from .content import MORE, CONTENT, Content, FollowUp, Lines, Term, Topic, ends_with_doctor, text
from .speech import join, to_ssml, with_pause


class Card(NamedTuple):
    title: str
    content: str


class Reply(NamedTuple):
    """One turn of speech.

    ``reprompt`` None closes the session; ``topic`` and ``offer`` are the topic
    the listener is on (for "tell me more") and the one just offered (for "yes").
    ``told_more``: this turn gave ``topic``'s longer answer, so there is no more
    to tell; ``offer_more``: "yes" gets the offered topic's longer answer.
    """

    speech: str
    reprompt: str | None = None
    card: Card | None = None
    topic: str | None = None
    offer: str | None = None
    told_more: bool = False
    offer_more: bool = False

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


def _offers(first: Topic, exclude: str, content: Content, *, key: str = "offer") -> Iterator[tuple[Topic, str]]:
    """Topics to offer next, in order: the suggested one, then the ones after it.

    A generator: nearly every answer takes the first, so the rest are never built.
    """
    topic = first
    for _ in range(len(content.topics)):
        if topic.id != exclude:
            yield topic, content.prompts[key].format(label=topic.label)
        topic = content.topic_by_id[topic.next]


def _fresh_offer(first: Topic, exclude: str, previous: str, content: Content,
                 key: str = "offer") -> tuple[Topic, str]:
    """The first offer whose words the listener did not just hear.

    A topic offered on the last turn is offered again in other words ("would
    you still like..."), so the listener keeps the choice he was given; only if
    he heard both does the offer move on to the topic after it.
    """
    head: tuple[Topic, str] | None = None
    for topic, line in _offers(first, exclude, content, key=key):
        head = head or (topic, line)
        if line not in previous:
            return topic, line
        again = content.prompts["offer_again"].format(label=topic.label)
        if key == "offer" and again not in previous:
            return topic, again
    return head or (first, content.prompts[key].format(label=first.label))


def _doctor(lines: Lines, category: str, variant: int, previous: str, content: Content) -> str:
    """A see-a-doctor line that fits, unless the text already ends with one."""
    return "" if ends_with_doctor(lines) else fresh(rotated(content.doctor_lines(category), variant), previous)


def _answer(lines: Lines, category: str, variant: int, title: str | None, next_topic: Topic,
            topic_id: str | None, previous: str, content: Content, *, exclude: str | None = None,
            offer_key: str = "offer", told_more: bool = False) -> Reply:
    """Answer, pause, a see-a-doctor line that fits, then the offer of what to hear next.

    The offer never names the topic just answered (``exclude``, by default the
    topic itself) and moves on when the listener has just heard it offered.
    ``topic_id`` None keeps the session on its topic; ``title`` None shows no card.
    """
    exclude = (topic_id or "") if exclude is None else exclude
    offered, offer = _fresh_offer(next_topic, exclude, previous, content, offer_key)
    answer = text(lines)
    doctor = _doctor(lines, category, variant, previous, content)
    spoken = with_pause(to_ssml(answer), to_ssml(doctor)) if doctor else to_ssml(answer)
    card = None if title is None else Card(
        title, "\n\n".join(part for part in (answer, doctor, _source_line(content)) if part))
    return Reply(
        speech=join(spoken, to_ssml(offer)),
        reprompt=to_ssml(offer),
        card=card,
        topic=topic_id,
        offer=offered.id,
        told_more=told_more,
        offer_more=offer_key == "offer_more",
    )


def topic_answer(topic: Topic, previous: str = "", content: Content = CONTENT) -> Reply:
    """The short spoken answer for a topic."""
    return _answer(topic.answer_lines, topic.doctor, topic.index, topic.title,
                   content.topic_by_id[topic.next], topic.id, previous, content)


def topic_more(topic: Topic, previous: str = "", content: Content = CONTENT) -> Reply:
    """The longer answer, for "tell me more": facts the short answer did not give."""
    return _answer(topic.more_lines, topic.doctor, topic.index + 1, f"{topic.title}: more detail",
                   content.topic_by_id[topic.next], topic.id, previous, content, told_more=True)


def no_more(topic: Topic, previous: str = "", content: Content = CONTENT) -> Reply:
    """Asked for more after the longer answer: say there is no more, never replay it; offer what's next."""
    line = fresh(content.prompts["no_more"], previous)
    offered, offer = _fresh_offer(content.topic_by_id[topic.next], topic.id, previous, content)
    return Reply(speech=join(to_ssml(line), to_ssml(offer)), reprompt=to_ssml(offer), offer=offered.id)


def follow_up(kind: FollowUp, topic: Topic, previous: str = "", content: Content = CONTENT,
              *, told_more: bool = False) -> Reply:
    """A question pointing back at the current topic, answered only as the article answers it.

    The topic that answers this kind of question, the topic's own longer answer
    (never twice: after it, there is no more), a short direct answer, or else
    a plain "the article doesn't say" with a doctor line and the nearest topic.
    """
    target = kind.topics.get(topic.id)
    if target == MORE:
        return no_more(topic, previous, content) if told_more else topic_more(topic, previous, content)
    if target:
        return topic_answer(content.topic_by_id[target], previous, content)
    next_topic = content.topic_by_id[topic.next]
    if topic.id in kind.lines:
        return _answer(kind.lines[topic.id], topic.doctor, topic.index, f"{topic.title}: {kind.title}",
                       next_topic, None, previous, content, exclude=topic.id)
    lines = kind.not_covered_lines.get(topic.id) or next(
        (option for option in kind.not_covered if text(option) not in previous), kind.not_covered[0])
    nearest = content.topic_by_id[kind.nearest.get(topic.id, topic.next)]
    return _answer(lines, topic.doctor, topic.index + 2, None, nearest, None, previous, content,
                   exclude=topic.id)


def follow_up_without_topic(kind: FollowUp, locale: str | None, previous: str = "",
                            content: Content = CONTENT) -> Reply:
    """A pointing question with nothing to point at: offer the topic its words name, or ask which."""
    plan = kind.without_topic
    if plan.offer:
        offered = content.topic_by_id[plan.offer]
        offer = content.prompts["offer"].format(label=offered.label)
        return Reply(speech=join(prompt(plan.prompt, content), to_ssml(offer)), reprompt=to_ssml(offer),
                     offer=offered.id)
    if plan.safety_net:
        return ask_with_safety_net(plan.prompt, "ask_again", locale, previous, content)
    return ask(plan.prompt, "ask_again", previous, content)


def term_answer(term: Term, previous: str = "", content: Content = CONTENT) -> Reply:
    """A glossary definition, offering the topic it belongs to (its longer answer, when the
    definition already says what the short one would)."""
    related = content.topic_by_id[term.topic]
    return _answer(term.answer_lines, related.doctor, term.index, term.title,
                   related, related.id, previous, content, exclude="",
                   offer_key="offer_more" if term.offers_more else "offer")


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
