"""Citation checks: is a quote verbatim in its passage, and on which page is it.

"Verbatim" allows only what text extraction itself varies: runs of whitespace and curly or
straight quotes. Anything else (a changed word, a dropped clause) fails.
"""

from __future__ import annotations

import re

from ingest.models import Chunk

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "\u00a0": " "})
_SPACE = re.compile(r"\s+")


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


def on_pages(quote: str, page_texts: dict[int, str], first: int, last: int) -> bool:
    """Whether the quote is on pages first..last (spaces and hyphens aside)."""
    joined = "".join(page_texts.get(n, "") for n in range(first, last + 1))
    return bool(_letters_only(quote)) and _letters_only(quote) in _letters_only(joined)
