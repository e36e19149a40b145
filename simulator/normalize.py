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

__all__ = ["Tokens", "tokenize", "normalize", "clause_starts", "first_person", "direct_question", "confirm_question",
           "strip_hedges", "rewrite", "CONFIRM_TAILS"]

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
    """A word's canonical parts, none with an apostrophe left in it.

    So normalizing twice changes nothing: the stem of a suffix is expanded too
    ("a''d" is "a would", not "a' would"), and a word whose apostrophe is only
    misplaced is the contraction it spells ("do'nt" is "dont", "do not").
    """
    if word in _CONTRACTIONS:
        return _CONTRACTIONS[word]
    if "'" in word:
        for suffix, full in _SUFFIXES:
            stem = word[: -len(suffix)].strip("'")
            if word.endswith(suffix) and stem:
                return (*_expand(stem), full)
        if word.endswith("'s") and word[:-2] in _S_IS:
            return (word[:-2], "is")
        plain = word.replace("'", "")
        return _CONTRACTIONS.get(plain, (plain,))
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


# --- how people wrap a question ------------------------------------------------
# Alexa's statistical NLU generalises from the samples to lead-ins ("so my wife
# keeps asking me ..."), caregiver forms ("does he need ...") and indirect
# questions ("what a psa test is"). The simulator matches by exact samples and
# fuzzy scores, so it rewrites the input into the forms the samples use. These
# rewrites only ever add readings: the words as said are always tried first.

# Clause punctuation in typed input (ASR output has none; conjunctions below do the work there).
_CLAUSE_BREAK = re.compile(r"[?!,;:\u2026]+|\.(?=\s|$)|\s[-\u2013\u2014]+\s")
# Words that open a new clause: a question may start after them.
CONJUNCTIONS = frozenset("and but so because cause though anyway also then".split())
# Words a direct question starts with.
QUESTION_WORDS = frozenset(
    "what whats why how where when who which is are am can could does do did should will would "
    "has have tell explain define any".split())
# Discourse openers dropped at the start of a reading ("so", "okay", "hey").
OPENERS = frozenset("so well ok right hey hi hello oh and but now alright listen look anyway yeah "
                    "quick question basically honestly".split())
# Hedges dropped anywhere: they carry no topic ("what actually causes ...").
HEDGES = frozenset("actually really exactly just basically even like kinda literally".split())
# People a caregiver asks for; "my husband's back" reads as "my back".
RELATIONS = frozenset(
    "husband dad father son brother partner grandfather grandpa granddad uncle friend boyfriend "
    "stepdad stepfather nephew cousin papa pop".split())
_AGREE = {"has": "have", "is": "am", "does": "do", "was": "was", "needs": "need", "wants": "want",
          "gets": "get", "feels": "feel", "hurts": "hurt", "keeps": "keep"}
# Indirect questions keep the verb last: "what a psa test is" -> "what is a psa test".
_WH = frozenset("what where why how when who which".split())
_AUX = frozenset("is are can could does do did should will would has have might may".split())
_THIRD_PERSON_VERBS = {"means": "mean", "works": "work", "spreads": "spread", "happens": "happen",
                       "helps": "help", "hurts": "hurt", "causes": "cause", "does": "do", "goes": "go"}


# A correction said first ("not the bone scan, the psa one", "nah not denosumab, how's zometa given"):
# what follows "not" up to one of these words is what the listener is *not* asking about.
_CONTRAST_OPENERS = frozenset("no nah oh well um uh".split())
_CONTRAST_RESUMES = frozenset("the but rather instead".split()) | _WH


def contrasted(canon: tuple[str, ...]) -> range:
    """Word positions of a leading "not X" correction ("not" included), or an empty range.

    X is at least one word and ends where the question resumes: at "i mean", "but",
    "rather", a question word, or a fresh "the" ("not the causes | the bone scan part").
    Without such a word there is no correction ("not able to feel my legs").
    """
    start = 0
    while start < len(canon) and canon[start] in _CONTRAST_OPENERS:
        start += 1
    if start >= len(canon) or canon[start] != "not":
        return range(0)
    for end in range(start + 2, len(canon)):
        word = canon[end]
        if word in ("mean", "meant") and canon[end - 1] == "i":
            return range(start, end + 1)
        if word in _CONTRAST_RESUMES:
            return range(start, end)
    return range(0)


def clause_starts(text: str) -> frozenset[int]:
    """Canonical token indices where typed punctuation opened a new clause."""
    counts, count = [], 0
    for piece in _CLAUSE_BREAK.split(text):
        count += len(tokenize(piece).canon)
        counts.append(count)
    return frozenset(c for c in counts if 0 < c < count)


def rewrite(tokens: Tokens, canon: list[str], origin: list[int]) -> Tokens:
    """New canonical words, each keeping the surface words of the token it came from."""
    return Tokens(tuple(canon), tuple(tokens.spans[i] for i in origin), tokens.surface)


def first_person(tokens: Tokens) -> Tokens:
    """Caregiver and third-person forms as the first person the samples mostly use.

    "does he need a bone scan" -> "do i need a bone scan", "my husbands back" -> "my back",
    "my dad has back pain" -> "i have back pain".
    """
    words, origin = list(tokens.canon), list(range(len(tokens.canon)))
    out: list[str] = []
    kept: list[int] = []
    i = 0
    while i < len(words):
        word = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if word in ("my", "our") and nxt.endswith("s") and nxt[:-1] in RELATIONS:
            out.append("my"); kept.append(i); i += 2                       # noqa: E702
            continue
        subject = word == "he" or (word in ("my", "our") and nxt in RELATIONS)
        if subject:
            if out and out[-1] in _AGREE and out[-1] != "was":
                out[-1] = _AGREE[out[-1]]
            out.append("i")
            kept.append(i)
            i += 1 if word == "he" else 2
            if word != "he" and words[i:i + 2] == ["in", "law"]:   # "my father in law has ..."
                i += 2
            if i < len(words) and words[i] in _AGREE:
                out.append(_AGREE[words[i]]); kept.append(i); i += 1         # noqa: E702
            continue
        out.append({"his": "my", "him": "me", "himself": "myself"}.get(word, word))
        kept.append(i)
        i += 1
    if out == words:
        return tokens
    return rewrite(tokens, out, [origin[k] for k in kept])


def direct_question(tokens: Tokens) -> Tokens:
    """Indirect questions in the direct word order of the samples.

    "what a psa test is" -> "what is a psa test"; "what zometa means" -> "what does zometa mean";
    "if back pain can be cancer" -> "can back pain be cancer".
    """
    words = list(tokens.canon)
    index = list(range(len(words)))
    if len(words) >= 3 and words[0] in _WH and words[1] not in _AUX and words[1] not in _THIRD_PERSON_VERBS:
        last = words[-1]
        if last in ("is", "are"):
            return rewrite(tokens, [words[0], last, *words[1:-1]], [0, len(words) - 1, *index[1:-1]])
        if last in _THIRD_PERSON_VERBS:
            return rewrite(tokens, [words[0], "does", *words[1:-1], _THIRD_PERSON_VERBS[last]],
                           [0, len(words) - 1, *index[1:-1], len(words) - 1])
    if len(words) >= 3 and words[0] in ("if", "whether"):
        for k in range(2, len(words)):
            if words[k] in _AUX:
                return rewrite(tokens, [words[k], *words[1:k], *words[k + 1:]], [k, *index[1:k], *index[k + 1:]])
    return tokens


CONFIRM_TAILS = (("is", "that", "right"), ("is", "that", "true"), ("is", "it", "true"), ("right",), ("true",))


def confirm_question(tokens: Tokens) -> Tokens:
    """A statement checked at the end as the samples ask it: "psa is a protein is that right" ->
    "is it true psa is a protein"."""
    words = tokens.canon
    for tail in CONFIRM_TAILS:
        n = len(tail)
        if len(words) > n + 1 and words[-n:] == tail and words[0] not in _WH and words[0] not in _AUX:
            index = list(range(len(words) - n))
            return rewrite(tokens, ["is", "it", "true", *words[:-n]], [len(words) - n] * 3 + index)
    return tokens


def strip_hedges(tokens: Tokens) -> Tokens:
    """Drop openers at the start ("so okay ...") and hedges anywhere ("actually")."""
    keep = [i for i, w in enumerate(tokens.canon) if w not in HEDGES]
    while len(keep) > 1 and tokens.canon[keep[0]] in OPENERS:
        keep.pop(0)
    if len(keep) == len(tokens.canon) or not keep:
        return tokens
    return rewrite(tokens, [tokens.canon[i] for i in keep], keep)
