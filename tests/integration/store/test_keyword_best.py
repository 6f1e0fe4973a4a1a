"""The keyword index's best k, picked from the score array, are the first k of every match
sorted by score, ties in index order, with and without a restriction to some chunks."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_keyword_incremental import QUERIES, _chunks, _markdown

from ingest.store.keyword_index import KeywordIndex

# The same paragraph in several papers scores the same: ties at every cut-off.
REPEATED = "The safeguarding adults board reviewed domestic abuse and self-harm cases."


@pytest.fixture
def index(tmp_path: Path) -> KeywordIndex:
    chunks = []
    for n in range(6):
        paper = _markdown(
            tmp_path / f"paper-{n}.md",
            f"Board paper {n}",
            [REPEATED, f"Item {n}: the police and crime commissioner and Healthwatch."]
            + ["Libraries opening hours on Saturday were discussed at length."] * (n % 3),
        )
        chunks += _chunks(paper, f"paper-{n}")
    return KeywordIndex.build(chunks, 1)


def _sorted_first(scores: dict[str, float], k: int) -> list[tuple[str, float]]:
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)[:k]


def test_the_best_k_are_the_first_k_of_every_match_sorted(index: KeywordIndex) -> None:
    some = set(index.chunk_ids[::2])
    for query in [*QUERIES, REPEATED]:
        for k in (1, 2, 3, 5, 50):
            assert index.best(query, k) == _sorted_first(index.scores(query), k), (query, k)
            assert index.best(query, k, some) == _sorted_first(index.scores(query, some), k)
    assert len(index.best(REPEATED, 3)) == 3
    assert index.best("zzzz unheard-of words", 5) == []
