"""The content file: short answers, sound links, safe wording, and our own words."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from skill.content import CONTENT

ARTICLE = Path(__file__).resolve().parent.parent.parent / "shared" / "article.txt"


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def sentences(text: str) -> int:
    return len(re.findall(r"[.?!](\s|$)", text))


@pytest.mark.parametrize("topic", CONTENT.topics, ids=lambda t: t.id)
def test_answers_are_short_enough_to_hear_lying_down(topic):
    assert len(words(topic.answer)) <= 70
    assert 2 <= sentences(topic.answer) <= 4
    assert len(words(topic.more)) <= 130
    assert len(words(topic.more)) > len(words(topic.answer))


def test_topic_links_are_sound():
    ids = {t.id for t in CONTENT.topics}
    assert len(ids) == len(CONTENT.topics)
    for topic in CONTENT.topics:
        assert topic.next in ids and topic.next != topic.id
    for term in CONTENT.terms:
        assert term.topic in ids
        assert re.fullmatch(r"[A-Z_]+", term.id)


@pytest.mark.parametrize("spoken", [
    "PSA", "metastasis", "lymph nodes", "bisphosphonate", "zoledronic acid", "Zometa", "denosumab",
    "radiopharmaceutical", "bone scan", "prostatitis", "enlarged prostate", "oncologist", "MRI",
    "CT scan", "x ray", "lymphatic system", "radiation therapy", "hormone therapy", "tumor",
])
def test_glossary_covers_the_articles_terms(spoken):
    assert CONTENT.find_term(spoken) is not None


def all_text() -> list[str]:
    prompts = [v for v in CONTENT.prompts.values() if isinstance(v, str)]
    return [*prompts, *CONTENT.prompts["doctor_lines"],
            *(t.answer for t in CONTENT.topics), *(t.more for t in CONTENT.topics),
            *(t.answer for t in CONTENT.terms)]


def test_nothing_we_say_diagnoses():
    for text in all_text():
        assert not re.search(r"\byou (do not |don't )?have\b", text.lower()), text


def test_doctor_lines_vary():
    lines = CONTENT.prompts["doctor_lines"]
    assert len(set(lines)) == len(lines) >= 4
    assert all("doctor" in line for line in lines)


@pytest.mark.skipif(not ARTICLE.exists(), reason="shared/article.txt not beside the repo")
def test_content_is_in_our_own_words():
    """No run of nine words from the article, except the cited title."""
    article = words(ARTICLE.read_text(encoding="utf-8"))
    grams = {tuple(article[i:i + 9]) for i in range(len(article) - 8)}
    title = tuple(words(CONTENT.source["title"]))
    copied = []
    for text in all_text():
        w = words(text)
        copied += [" ".join(w[i:i + 9]) for i in range(len(w) - 8)
                   if tuple(w[i:i + 9]) in grams and tuple(w[i:i + 9]) != title]
    assert copied == []
