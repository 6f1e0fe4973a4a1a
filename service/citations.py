"""Citation checks: is a quote verbatim in its passage, and on which page is it.

"Verbatim" allows only what text extraction itself varies: runs of whitespace and curly or
straight quotes. Anything else (a changed word, a dropped clause) fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ingest.models import Chunk
from ingest.text.sentences import sentence_spans

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "\u00a0": " "})
_SPACE = re.compile(r"\s+")
# "[2]", "[1, 3]", "[1;3]"; at most three digits so years in brackets are not markers.
MARKER = re.compile(r"([ \t]*)\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_ELLIPSIS = re.compile(r"\s*(?:\[\s*(?:\.\.\.|…)\s*\]|\.\.\.|…)\s*")


def canonical(text: str) -> str:
    """Whitespace collapsed and quote marks straightened; nothing else changes."""
    return _SPACE.sub(" ", text.translate(_QUOTES)).strip()


def _letters_only(text: str) -> str:
    # Page text keeps line breaks and end-of-line hyphens that the structure step mends
    # ("safe-\nguarding" → "safeguarding"), so pages are matched ignoring spaces and hyphens.
    return re.sub(r"[\s\-]+", "", text.translate(_QUOTES))


def is_verbatim(quote: str, passage: str) -> bool:
    needle = canonical(quote)
    return bool(needle) and needle in canonical(passage)


def quote_pages(quote: str, chunk: Chunk, page_texts: dict[int, str]) -> tuple[int, int]:
    """The first and last page the quote sits on, searched within the chunk's pages."""
    needle = _letters_only(quote)
    pages = range(chunk.page, chunk.page_end + 1)
    for number in pages:
        if needle in _letters_only(page_texts.get(number, "")):
            return number, number
    # Spans a page break: find the page it starts on.
    for number in pages:
        joined = page_texts.get(number, "") + page_texts.get(number + 1, "")
        if needle in _letters_only(joined):
            return number, number + 1
    return chunk.page, chunk.page_end


class QuotePages:
    """Where quotes sit in their papers: a quote in a chunk on one page is on that page; for
    a chunk spanning pages, its paper's page texts are read (once per paper) and searched.
    An archive's minutes can be one long page, so reading every cited paper's pages for each
    answer cost more than the answer."""

    def __init__(self, page_texts: Callable[[str], dict[int, str]]) -> None:
        self._read = page_texts
        self._texts: dict[str, dict[int, str]] = {}

    def __call__(self, quote: str, chunk: Chunk) -> tuple[int, int]:
        if chunk.page_end <= chunk.page:
            return chunk.page, chunk.page
        if chunk.doc_id not in self._texts:
            self._texts[chunk.doc_id] = self._read(chunk.doc_id)
        return quote_pages(quote, chunk, self._texts[chunk.doc_id])


def on_pages(quote: str, page_texts: dict[int, str], first: int, last: int) -> bool:
    """Whether the quote is on pages first..last (spaces and hyphens aside)."""
    joined = "".join(page_texts.get(n, "") for n in range(first, last + 1))
    return bool(_letters_only(quote)) and _letters_only(quote) in _letters_only(joined)


def verbatim_span(quote: str, passage: str) -> str | None:
    """The passage's own text for a quote that is verbatim in it (an elided quote, "a … b",
    counts when every piece is; its longest piece is kept), else None."""
    pieces = [piece for piece in _ELLIPSIS.split(quote.strip()) if piece.strip()]
    if not pieces or not all(is_verbatim(piece, passage) for piece in pieces):
        return None
    needle = canonical(max(pieces, key=len))
    pattern = "".join(
        r"\s+" if char == " " else "['‘’]" if char == "'" else "[\"“”]" if char == '"'
        else re.escape(char)
        for char in needle
    )  # fmt: skip
    found = re.search(pattern, passage.replace("\u00a0", " "))
    return passage[found.start() : found.end()] if found else needle


def renumber_markers(text: str, passages: int) -> tuple[str, dict[int, list[str]], list[str]]:
    """Markers renumbered 1..m by first appearance, those naming no passage removed.

    Returns the rewritten answer; for each cited passage number (in citation order) the
    answer sentences citing it; and a warning per removed marker."""
    statements: dict[int, list[str]] = {}
    warnings: list[str] = []
    sentences = sentence_spans(text)

    def rewrite(marker: re.Match[str]) -> str:
        kept: list[str] = []
        for passage in (int(number) for number in re.split(r"[,;]", marker[2])):
            if not 1 <= passage <= passages:
                warnings.append(
                    f"The model cited passage [{passage}], but only {passages} passages were "
                    "given; that marker was removed."
                )
                continue
            statements.setdefault(passage, []).append(_sentence_at(text, sentences, marker))
            kept.append(f"[{list(statements).index(passage) + 1}]")
        return marker[1] + "".join(dict.fromkeys(kept)) if kept else ""

    return MARKER.sub(rewrite, text).strip(), statements, warnings


def _sentence_at(text: str, spans: list[tuple[int, int]], marker: re.Match[str]) -> str:
    position = marker.start(2)
    for start, end in spans:
        if start <= position <= end:
            return MARKER.sub("", text[start:end])
    return MARKER.sub("", text[: marker.start()])
