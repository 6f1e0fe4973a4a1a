"""Themes of a paper: the two-word phrases it comes back to most, weighed against the other
papers in the index so that what every paper says ("health wellbeing") counts for less."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

from ingest.models import Chunk
from ingest.text.words import PHRASE_STOP_WORDS
from service.summaries import Theme

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")


def phrases(text: str) -> list[str]:
    """The text's two-word phrases without stop words, lower-cased."""
    words = [w.lower().strip("'’-") for w in _WORD.findall(text)]
    return [
        f"{a} {b}"
        for a, b in zip(words, words[1:], strict=False)
        if a not in PHRASE_STOP_WORDS and b not in PHRASE_STOP_WORDS and len(a) > 2 and len(b) > 2
    ]


def document_phrases(chunks: Iterable[Chunk]) -> set[str]:
    found: set[str] = set()
    for chunk in chunks:
        found.update(phrases(chunk.text))
    return found


def themes(
    chunks: list[Chunk], corpus_frequency: Counter[str], documents: int, limit: int = 6
) -> list[Theme]:
    """`corpus_frequency`: in how many of the `documents` indexed papers each phrase occurs."""
    in_chunks: Counter[str] = Counter()
    pages: dict[str, Counter[int]] = {}
    for chunk in chunks:
        for phrase in set(phrases(chunk.text)):
            in_chunks[phrase] += 1
            pages.setdefault(phrase, Counter())[chunk.page] += 1
    scored = {
        phrase: count * math.log(1 + documents / (1 + corpus_frequency.get(phrase, 0)))
        for phrase, count in in_chunks.items()
        if count >= 2
    }
    chosen: list[str] = []
    for phrase in sorted(scored, key=lambda p: (-scored[p], p)):
        if any(set(phrase.split()) & set(other.split()) for other in chosen):
            continue  # "domestic abuse" and "abuse strategy" say the same
        chosen.append(phrase)
        if len(chosen) == limit:
            break
    return [Theme(p, sorted(n for n, _ in pages[p].most_common(3))) for p in chosen]
