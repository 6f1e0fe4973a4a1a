"""Word tokens: one tokenizer for indexing and querying, so the two agree.

Lower-cased Snowball stems without function words; a hyphenated compound gives its parts and
the word they make. The keyword index, key terms, the evidence check and the answerers all
read text through `Tokenizer`; `stem` is the same stemmer for one word.

`word_tokens` reads text for matching phrases in place (the theme scan) with the same stemmer:
every word with its stem and where it stands, function words kept so that distances hold; a
hyphenated or possessive word gives its parts, and a figure on its own is no word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .words import FUNCTION_WORDS
from .years import full_year_spans

# A word, or words joined by hyphens ("well-being", "co-ordination", "2023-24").
_TOKEN = re.compile(r"[a-z0-9£%]+(?:-[a-z0-9£%]+)*(?:'[a-z]+)?")
# Curly apostrophes as straight ones; typeset hyphens (U+2010, U+2011) as "-"; a soft hyphen
# (U+00AD) only marks where a line may break, so it goes. En dashes stay: they mark ranges.
_NORMALISE = str.maketrans({"’": "'", "\u2010": "-", "\u2011": "-", "\u00ad": None})
# A word in place: letters, with the digits after them ("Q1", "B4"), or a number read as a
# word ("16th", "2nd"); hyphens, apostrophes and everything else fall between words.
_WORD_IN_PLACE = re.compile(r"[A-Za-z][A-Za-z0-9]*|\d+[A-Za-z]+")
# A compound of words: hyphenated parts that each begin with a letter ("self-harm", "Q1-Q2"),
# not a figure ("2023-24", "Covid-19"). The tokenizer joins exactly these.
COMPOUND = re.compile(
    r"(?<![A-Za-z0-9£%-])[A-Za-z][A-Za-z0-9£%]*(?:-[A-Za-z][A-Za-z0-9£%]*)+(?![A-Za-z0-9£%-])"
)


@lru_cache(maxsize=1)
def _stemmer() -> object:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball English stem of one lower-cased word."""
    return str(_stemmer().stemWord(word.lower()))  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Token:
    """A word where it stands: its stem, the word lower-cased, and its span in the text."""

    stem: str
    word: str
    start: int
    end: int


def word_tokens(text: str) -> list[Token]:
    """Every word of the text in order, with its stem and span (function words kept)."""
    tokens = []
    for match in _WORD_IN_PLACE.finditer(text):
        word = match.group().lower()
        tokens.append(Token(stem(word), word, match.start(), match.end()))
    return tokens


class Tokenizer:
    """Lower-cased, stemmed word tokens; shared by indexing and querying so they agree.

    Papers spell one word with and without a hyphen ("well-being" and "wellbeing",
    "anti-social" and "antisocial", "co-ordination" and "coordination"), so a compound of
    words gives its parts and the parts written as one word: either spelling finds the other.
    """

    def __init__(self) -> None:
        import Stemmer

        self._stemmer = Stemmer.Stemmer("english")

    def words(self, text: str) -> list[str]:
        words: list[str] = []
        for token in _TOKEN.findall(normalised(text).lower()):
            parts = token.split("-")
            words.extend(parts)
            if len(parts) > 1 and all(part[:1].isalpha() for part in parts):
                words.append("".join(parts))  # not figures: "2023-24" is no word
        return [word for word in words if word not in FUNCTION_WORDS]

    def __call__(self, text: str) -> list[str]:
        return list(self._stemmer.stemWords(self.words(text)))


def normalised(text: str) -> str:
    """The text with apostrophes and hyphens as the tokenizer reads them, and short year spans
    in full ("23/24" as "2023/24")."""
    return full_year_spans(text.translate(_NORMALISE))


def compounds_apart(text: str) -> str:
    """The text with each compound of words written apart: "self-harm" → "self harm"."""
    return COMPOUND.sub(lambda match: match.group(0).replace("-", " "), normalised(text))


def compounds_joined(text: str) -> str:
    """The text with each compound of words written as one: "self-harm" → "selfharm"."""
    return COMPOUND.sub(lambda match: match.group(0).replace("-", ""), normalised(text))
