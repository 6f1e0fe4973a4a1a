"""The one place links and Markdown table cells are built, for every export."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, urljoin


def page_link(url: str, base_url: str | None) -> str:
    """A citation's `url` (`/documents/{id}/file#page=N`), made absolute when the service's
    base URL is known (a link in a file opened elsewhere has no origin to resolve against)."""
    if not base_url:
        return url
    # The base may carry a path (a service behind a proxy at /papers/): keep it.
    return urljoin(base_url.rstrip("/") + "/", url.lstrip("/"))


def md_cell(text: str) -> str:
    """Text as one Markdown table cell: one line, and a pipe would end the cell."""
    return " ".join(text.split()).replace("|", "\\|")


def md_link(text: str, url: str) -> str:
    """`[text](url)` that survives a table cell: brackets in the text and spaces or
    parentheses in the URL would end the link early."""
    label = md_cell(text).replace("[", "\\[").replace("]", "\\]")
    return f"[{label}]({quote(url, safe=':/?#=&%@+,;~')})"


def md_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table's lines; each row's cells are already made (`md_cell`, `md_link`)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines
