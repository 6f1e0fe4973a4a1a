"""The live papers cut into paragraphs, tokenised and indexed by stem, once per generation.

A chunk may hold several blocks joined by a blank line; each block is a paragraph-level place.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from ingest.models import Chunk
from ingest.reading.chunking import BLOCK_SEPARATOR
from ingest.text.acronyms import Glossary
from ingest.text.tokens import Token, word_tokens
from service.themes.terms import Term, learn_acronyms, stem_matches

_LEADING_NUMBER = re.compile(
    r"^\s*(\d{1,3}(?:\.\d{1,3})*|\((?:[a-z]|[ivx]{1,4}|\d{1,2})\)|[a-z]\))[.\s]"
)
LEAD_IN_CHARS = 240


@dataclass
class Paragraph:
    position: int  # index in the corpus list, which is in document and reading order
    chunk: Chunk
    offset: int  # the paragraph's place within its chunk's text
    text: str
    tokens: list[Token]
    lead_in: str  # the end of the paragraph before it in the same document

    @property
    def number(self) -> str | None:
        match = _LEADING_NUMBER.match(self.text)
        if match:
            return match.group(1)
        return self.chunk.paragraph if self.offset == 0 else None


@dataclass
class CorpusParagraphs:
    generation: int
    paragraphs: list[Paragraph]
    acronyms: Glossary  # as `learn_acronyms` reads the paragraphs
    postings: dict[str, list[int]] = field(default_factory=dict)  # stem → paragraph positions
    _by_prefix: dict[str, set[int]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, chunks: list[Chunk], generation: int) -> CorpusParagraphs:
        paragraphs: list[Paragraph] = []
        previous: dict[str, str] = {}
        for chunk in chunks:
            offset = 0
            for text in chunk.text.split(BLOCK_SEPARATOR):
                if text.strip():
                    lead_in = previous.get(chunk.doc_id, "")[-LEAD_IN_CHARS:]
                    paragraphs.append(
                        Paragraph(len(paragraphs), chunk, offset, text, word_tokens(text), lead_in)
                    )
                    previous[chunk.doc_id] = text
                offset += len(text) + len(BLOCK_SEPARATOR)
        postings: dict[str, list[int]] = defaultdict(list)
        for paragraph in paragraphs:
            for stem in {t.stem for t in paragraph.tokens}:
                postings[stem].append(paragraph.position)
        acronyms = learn_acronyms(p.text for p in paragraphs)
        return cls(generation, paragraphs, acronyms, dict(postings))

    @property
    def chunk_count(self) -> int:
        return len({p.chunk.chunk_id for p in self.paragraphs})

    def share(self, stem: str) -> float:
        """Share of paragraphs that hold a word with this stem (prefixes included)."""
        return len(self.positions_with(stem)) / max(1, len(self.paragraphs))

    def positions_with(self, term_stem: str) -> set[int]:
        cached = self._by_prefix.get(term_stem)
        if cached is None:
            cached = set()
            for stem, positions in self.postings.items():
                if stem_matches(term_stem, stem):
                    cached.update(positions)
            self._by_prefix[term_stem] = cached
        return cached

    def find(self, term: Term) -> dict[int, list[Token]]:
        """Paragraph position → the tokens where `term` occurs, for every paragraph it is in."""
        candidates = set.intersection(*(set(self.positions_with(s)) for s in term.stems))
        found: dict[int, list[Token]] = {}
        for position in sorted(candidates):
            hit = occurrence(term, self.paragraphs[position].tokens)
            if hit:
                found[position] = hit
        return found


@dataclass(frozen=True)
class Readable:
    """The paragraphs as one caller reads them: those of the papers it may read (`admitted`;
    every paper when None). A theme's words are weighed on these alone, so how they are read
    never depends on a paper the caller may not see."""

    corpus: CorpusParagraphs
    admitted: set[str] | None = None
    # Each term's places, found once: reading a theme's words weighs one term at several steps.
    _found: dict[Term, dict[int, list[Token]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def admits(self, position: int) -> bool:
        return (
            self.admitted is None or self.corpus.paragraphs[position].chunk.doc_id in self.admitted
        )

    def find(self, term: Term) -> dict[int, list[Token]]:
        """`CorpusParagraphs.find` within the readable papers (not to be changed by the caller:
        it is kept for the term's next look-up)."""
        if term not in self._found:
            found = self.corpus.find(term).items()
            self._found[term] = {p: hit for p, hit in found if self.admits(p)}
        return self._found[term]

    def share(self, stem: str) -> float:
        """`CorpusParagraphs.share` within the readable papers."""
        if self.admitted is None:
            return self.corpus.share(stem)
        held = sum(1 for p in self.corpus.positions_with(stem) if self.admits(p))
        return held / max(1, self._paragraphs)

    @cached_property
    def _paragraphs(self) -> int:
        """How many paragraphs are readable: counted once, not for every word weighed."""
        return sum(1 for p in range(len(self.corpus.paragraphs)) if self.admits(p))


def occurrence(term: Term, words: list[Token]) -> list[Token]:
    """The tokens of the term's occurrences in `words`: a linked phrase's words as written,
    another term's words within a short window in any order."""
    if term.linked:
        n = len(term.linked)
        return [
            token
            for i in range(len(words) - n + 1)
            if all(
                stem_matches(s, w.stem) for s, w in zip(term.linked, words[i : i + n], strict=True)
            )
            for token in words[i : i + n]
        ]
    spots = [[i for i, t in enumerate(words) if stem_matches(s, t.stem)] for s in term.stems]
    if any(not s for s in spots):
        return []
    hits: list[Token] = []
    for first in spots[0]:
        chosen = [first]
        for others in spots[1:]:
            near = [i for i in others if abs(i - first) < term.window and i not in chosen]
            if not near:
                break
            chosen.append(min(near, key=lambda i: abs(i - first)))
        else:
            hits.extend(words[i] for i in chosen)
    return hits
