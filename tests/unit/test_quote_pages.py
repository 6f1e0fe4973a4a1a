"""Where a cited quote sits: a one-page chunk's quote is on its page without reading the
paper; a chunk spanning pages has its paper's pages read once and searched."""

from __future__ import annotations

from ingest.models import Chunk
from service.citations import QuotePages

PAGES = {
    3: "The board agreed the plan.\nIt asked for a safe-\nguarding review by May.",
    4: "Officers will report back in June.",
}


def _chunk(page: int, page_end: int, ordinal: int = 0) -> Chunk:
    return Chunk(f"paper:{ordinal}", "paper", "v1", ordinal, "…", page, page_end, "", None,
                 "paragraph", 0, 1)  # fmt: skip


def test_a_quote_is_placed_on_its_page_reading_each_paper_once_and_only_when_needed() -> None:
    reads: list[str] = []

    def page_texts(doc_id: str) -> dict[int, str]:
        reads.append(doc_id)
        return PAGES

    pages_of = QuotePages(page_texts)
    assert pages_of("Officers will report back", _chunk(4, 4)) == (4, 4)
    assert reads == []  # a one-page chunk: nothing read
    spanning = _chunk(3, 4, ordinal=1)
    assert pages_of("Officers will report back in June.", spanning) == (4, 4)
    assert pages_of("a safeguarding review by May.", spanning) == (3, 3)  # hyphen mended
    assert pages_of("review by May. Officers will", spanning) == (3, 4)  # over the break
    assert reads == ["paper"]
