"""Word stems with their places in the text, shared by theme parsing and paragraph matching.

Stems come from the Snowball English stemmer; a theme stem of five letters or more also
matches longer stems that start with it ("sleep" finds "sleepers", "exploit" "exploiters").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.text.tokens import stem
from ingest.text.words import THEME_FRAME_WORDS

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|\d+[A-Za-z]+")
PREFIX_MIN = 5


@dataclass(frozen=True)
class Token:
    stem: str
    word: str  # lower-cased surface form
    start: int
    end: int


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
    return tuple(t.stem for t in tokens(text) if t.word not in THEME_FRAME_WORDS)
