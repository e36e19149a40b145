"""Text normalisation that makes typed input look like Alexa's ASR output.

Samples and user input go through the same function, so the matcher only ever
compares canonical forms: lower case, no punctuation, contractions expanded
("what's" -> "what is"), number words turned into digits ("twenty one" -> "21",
"fourth" -> "4th").  Each canonical token remembers which surface words it came
from, so a captured slot can report what the user actually said.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Tokens", "tokenize", "normalize"]

# Whole-word contractions, including the apostrophe-less spellings people type.
# Ambiguous ones ("its", "wont", "well", "id", "were") are deliberately absent.
_CONTRACTIONS: dict[str, tuple[str, ...]] = {
    "can't": ("can", "not"), "cant": ("can", "not"), "cannot": ("can", "not"),
    "won't": ("will", "not"), "shan't": ("shall", "not"), "ain't": ("is", "not"),
    "let's": ("let", "us"), "lets": ("let", "us"),
    "whats": ("what", "is"), "thats": ("that", "is"), "hows": ("how", "is"),
    "wheres": ("where", "is"), "whos": ("who", "is"), "theres": ("there", "is"),
    "dont": ("do", "not"), "doesnt": ("does", "not"), "didnt": ("did", "not"),
    "isnt": ("is", "not"), "arent": ("are", "not"), "wasnt": ("was", "not"),
    "werent": ("were", "not"), "havent": ("have", "not"), "hasnt": ("has", "not"),
    "couldnt": ("could", "not"), "wouldnt": ("would", "not"),
    "shouldnt": ("should", "not"), "im": ("i", "am"), "ive": ("i", "have"),
    "youre": ("you", "are"), "theyre": ("they", "are"),
    "gonna": ("going", "to"), "wanna": ("want", "to"), "okay": ("ok",),
}
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("n't", "not"), ("'re", "are"), ("'ve", "have"), ("'ll", "will"),
    ("'d", "would"), ("'m", "am"),
)
# "'s" is "is" only after these; elsewhere it is a possessive ("today's").
_S_IS = frozenset("it he she that what where who how there here when why".split())

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}
_ORD_UNITS = {w: i for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh "
    "twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth "
    "nineteenth".split(), start=1)}
_ORD_TENS = {w: 10 * i for i, w in enumerate(
    "twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth "
    "ninetieth".split(), start=2)}

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_DROP = re.compile(r"[.\u00b7]")          # "a.m." -> "am", "o.k." -> "ok"
_SPACE = re.compile(r"[^\w\s']|_")         # every other symbol separates words


@dataclass(frozen=True, slots=True)
class Tokens:
    """Canonical tokens plus, for each, the [start, end) range of surface words."""

    canon: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    surface: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.canon)

    def surface_text(self, start: int, end: int) -> str:
        """Surface words behind canonical tokens [start, end)."""
        if start >= end:
            return ""
        return " ".join(self.surface[self.spans[start][0]:self.spans[end - 1][1]])


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 13:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _surface_words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = text.replace("&", " and ").replace("%", " percent ")
    text = _THOUSANDS.sub("", _DECIMAL.sub(" point ", text))
    text = _SPACE.sub(" ", _DROP.sub("", text))
    return [w.strip("'") for w in text.split() if w.strip("'")]


def _expand(word: str) -> tuple[str, ...]:
    if word in _CONTRACTIONS:
        return _CONTRACTIONS[word]
    if "'" in word:
        for suffix, full in _SUFFIXES:
            if word.endswith(suffix) and len(word) > len(suffix):
                return (word[: -len(suffix)], full)
        if word.endswith("'s") and word[:-2] in _S_IS:
            return (word[:-2], "is")
        return (word.replace("'", ""),)
    return (word,)


def _small(words: list[str], i: int) -> tuple[int, bool, int] | None:
    """Parse 0-99 (cardinal or ordinal) at i: (value, is_ordinal, next index)."""
    w = words[i] if i < len(words) else ""
    if w in _ORD_UNITS:
        return _ORD_UNITS[w], True, i + 1
    if w in _ORD_TENS:
        return _ORD_TENS[w], True, i + 1
    if w in _UNITS:
        return _UNITS[w], False, i + 1
    if w in _TENS:
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if 1 <= _UNITS.get(nxt, 0) <= 9:
            return _TENS[w] + _UNITS[nxt], False, i + 2
        if 1 <= _ORD_UNITS.get(nxt, 0) <= 9:
            return _TENS[w] + _ORD_UNITS[nxt], True, i + 2
        return _TENS[w], False, i + 1
    return None


def _below_thousand(words: list[str], i: int) -> tuple[int, bool, int] | None:
    first = _small(words, i)
    if first is None:
        return None
    value, ordinal, j = first
    if ordinal or not 1 <= value <= 99 or j >= len(words):
        return first
    if words[j] in ("hundred", "hundredth"):
        value, ordinal, j = value * 100, words[j] == "hundredth", j + 1
        if not ordinal:
            k = j + 1 if j < len(words) and words[j] == "and" else j
            rest = _small(words, k)
            if rest is not None and rest[0] > 0:
                value, ordinal, j = value + rest[0], rest[1], rest[2]
    return value, ordinal, j


def _number(words: list[str], i: int) -> tuple[str, int] | None:
    """Parse a number word sequence (up to 999,999) at i: (canonical, next index)."""
    head = _below_thousand(words, i)
    if head is None:
        return None
    value, ordinal, j = head
    if not ordinal and 1 <= value <= 999 and j < len(words) and words[j] == "thousand":
        value, j = value * 1000, j + 1
        k = j + 1 if j < len(words) and words[j] == "and" else j
        tail = _below_thousand(words, k)
        if tail is not None and tail[0] > 0:
            value, ordinal, j = value + tail[0], tail[1], tail[2]
    return (_ordinal(value) if ordinal else str(value)), j


def tokenize(text: str) -> Tokens:
    """Canonical tokens of text, each mapped back to the words it came from."""
    surface = _surface_words(text)
    words: list[str] = []
    origin: list[int] = []
    for index, word in enumerate(surface):
        for part in _expand(word):
            words.append(part)
            origin.append(index)
    canon: list[str] = []
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        parsed = _number(words, i)
        if parsed is None:
            canon.append(words[i])
            spans.append((origin[i], origin[i] + 1))
            i += 1
        else:
            canon.append(parsed[0])
            spans.append((origin[i], origin[parsed[1] - 1] + 1))
            i = parsed[1]
    return Tokens(tuple(canon), tuple(spans), tuple(surface))


def normalize(text: str) -> str:
    """Canonical form of text as one space-separated string."""
    return tokenize(text).text
