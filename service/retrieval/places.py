"""Places: ranked chunks → the k passages shown for them.

A fact often spans a chunk boundary, and a pack often prints the same words twice (a report,
then the minutes that quote it). Both would otherwise take two of the k places: adjacent
chunks that rank are joined into one passage, and a repeat is noted beside the passage it
repeats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.models import Chunk


@dataclass
class Place:
    chunk_id: str  # the chunk that took the place
    score: float
    joined: list[str] = field(default_factory=list)  # adjacent chunks joined into it
    repeats: list[str] = field(default_factory=list)  # the same text printed elsewhere
    first: int = 0  # ordinals of the run of chunks
    last: int = 0


def take_places(
    ranked: list[tuple[str, float]], chunks: dict[str, Chunk], k: int, max_chunks: int
) -> list[Place]:
    """The top k places, best first. A chunk next to a place already taken (same paper, the
    ordinal just before or after its run) joins it, up to `max_chunks`; a chunk repeating a
    placed chunk's text (a report's words again in the minutes, an annex printed twice) is
    noted as a repeat of that place. Neither takes a place of its own, and only chunks ranked
    above the k-th place are looked at."""
    places: list[Place] = []
    shingles: dict[str, set[tuple[str, ...]]] = {}

    def words_of(chunk_id: str) -> set[tuple[str, ...]]:
        if chunk_id not in shingles:
            shingles[chunk_id] = _shingles(chunks[chunk_id].text)
        return shingles[chunk_id]

    for chunk_id, score in ranked:
        chunk = chunks[chunk_id]
        adjacent = next(
            (place for place in places
             if chunks[place.chunk_id].doc_id == chunk.doc_id
             and place.first - 1 <= chunk.ordinal <= place.last + 1
             and place.last - place.first + 1 < max_chunks),
            None,
        )  # fmt: skip
        if adjacent is not None:
            adjacent.joined.append(chunk_id)
            adjacent.first = min(adjacent.first, chunk.ordinal)
            adjacent.last = max(adjacent.last, chunk.ordinal)
            continue
        repeated = next(
            (place for place in places
             if any(_repeats(words_of(chunk_id), words_of(other))
                    for other in (place.chunk_id, *place.joined))),
            None,
        )  # fmt: skip
        if repeated is not None:
            repeated.repeats.append(chunk_id)
            continue
        if len(places) == k:
            break
        places.append(Place(chunk_id, score, first=chunk.ordinal, last=chunk.ordinal))
    return places


# Share of a chunk's five-word runs found in a placed chunk: above this, it repeats that one.
# Measured on the candidate's own runs, so a longer chunk that adds much of its own is kept.
REPEAT_OVERLAP = 0.7
_WORD = re.compile(r"[a-z0-9£%]+")


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}


def _repeats(candidate: set[tuple[str, ...]], placed: set[tuple[str, ...]]) -> bool:
    return bool(candidate) and len(candidate & placed) >= REPEAT_OVERLAP * len(candidate)
