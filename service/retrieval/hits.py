"""A hit: one place in the papers that retrieval returns, with the scores that placed it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.models import Chunk


@dataclass
class Hit:
    """One place in the papers: the chunk that ranked, and any adjacent chunks that also
    ranked above the k-th place, joined into one passage (a fact often spans a boundary).
    Chunks elsewhere with the same text are noted as `repeats` rather than shown again."""

    chunk: Chunk  # the best-ranked chunk of the passage
    score: float  # fused score: higher is better; comparable within one query only
    # cosine similarity of question and chunk; a joined chunk's is not measured: it ranked
    # through its neighbour, and its statements answering as well would put them first less
    # often on both development sets
    dense: float | None = None
    keyword: float | None = None  # BM25 score, when the keyword index found it
    joined: list[Chunk] = field(default_factory=list)  # adjacent chunks that also ranked
    repeats: list[Chunk] = field(default_factory=list)  # the same text elsewhere, ranked too

    @property
    def chunks(self) -> list[Chunk]:
        """Every chunk of the passage, in reading order."""
        return sorted([self.chunk, *self.joined], key=lambda chunk: chunk.ordinal)

    @property
    def text(self) -> str:
        return "\n\n".join(chunk.text for chunk in self.chunks)

    def parts(self) -> list[Hit]:
        """The passage as one hit per chunk, for what cites chunk by chunk: the chunk that
        ranked first, then the joined ones in the order they ranked."""
        if not self.joined:
            return [self]
        return [self, *(Hit(chunk, self.score) for chunk in self.joined)]


def chunk_hits(hits: list[Hit]) -> list[Hit]:
    """Each hit's chunks as hits of their own."""
    return [part for hit in hits for part in hit.parts()]
