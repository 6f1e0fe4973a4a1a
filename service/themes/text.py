"""Word stems with their places in the text, shared by theme parsing and paragraph matching.

Stems come from the Snowball English stemmer; a theme stem of five letters or more also
matches longer stems that start with it ("sleep" finds "sleepers", "exploit" "exploiters").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|\d+[A-Za-z]+")
PREFIX_MIN = 5

# Words that carry no theme: function words and the frame of a question about the papers.
_STOPWORD_TEXT = (
    "a an and are as at be been but by for from had has have how i if in into is it its of on "
    "or our so than that the their them then there these they this those to was we were what "
    "when where which who whom why will with would you your did do does any all about such "
    "including include includes like e g eg ie etc especially mention mentions mentioned "
    "mentioning discuss discusses discussed refer refers referring say says said cover covers "
    "papers paper documents document reports report place places show find list tell me us "
    "other others also both either more"
)  # fmt: skip
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class Token:
    stem: str
    word: str  # lower-cased surface form
    start: int
    end: int


@lru_cache(maxsize=1)
def _stemmer() -> object:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_stemmer().stemWord(word.lower()))  # type: ignore[attr-defined]


def tokens(text: str) -> list[Token]:
    return [
        Token(stem(m.group().lower()), m.group().lower(), m.start(), m.end())
        for m in _WORD.finditer(text)
    ]


def stem_matches(term_stem: str, text_stem: str) -> bool:
    if text_stem == term_stem:
        return True
    return len(term_stem) >= PREFIX_MIN and text_stem.startswith(term_stem)


def content_stems(text: str) -> tuple[str, ...]:
    return tuple(t.stem for t in tokens(text) if t.word not in STOPWORDS)
