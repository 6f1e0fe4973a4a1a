"""A theme scan as a briefing-ready evidence table, one row per place: Markdown (each row's
document linked to its page), CSV, or DOCX (`service.exports.docx`)."""

from __future__ import annotations

import csv
import io
from datetime import date

from service.exports.docx import Briefing, EvidenceTable, Link, briefing_docx, long_date
from service.exports.links import md_cell, md_link, md_table, page_link
from service.themes.schemas import ThemeResponse

CSV_COLUMNS = (
    "document", "document_id", "date", "page", "section", "paragraph", "kind", "quote", "url",
    "text",
)  # fmt: skip
MD_COLUMNS = ("Document", "Date", "Page", "Paragraph", "Kind", "Quote")
_DOCX_WEIGHTS = (4.2, 2.3, 1.1, 1.6, 2.0, 7.0)  # the quote gets most of the width


def rows(response: ThemeResponse) -> list[dict[str, str]]:
    return [
        {
            "document": group.document.title,
            "document_id": group.document.id,
            "date": group.document.date or "",
            "page": str(place.page),
            "section": place.section,
            "paragraph": place.paragraph or "",
            "kind": place.kind.value,
            "quote": place.quote,
            "url": place.url,
            "text": place.text,
        }
        for group in response.documents
        for place in group.places
    ]


def to_csv(response: ThemeResponse) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(response))
    return buffer.getvalue()


def _summary(response: ThemeResponse) -> tuple[str, str]:
    places = sum(group.count for group in response.documents)
    return (
        f"Terms searched: {', '.join(response.terms)}.",
        f"{places} places in {len(response.documents)} documents.",
    )


def to_markdown(response: ThemeResponse, base_url: str | None = None) -> str:
    """The table; each row's document links to its page (absolute when `base_url` is known)."""
    terms, counts = _summary(response)
    table = [
        (
            md_link(row["document"], page_link(row["url"], base_url)),
            *(md_cell(row[key]) for key in ("date", "page", "paragraph", "kind", "quote")),
        )
        for row in rows(response)
    ]
    lines = [f"# Theme: {md_cell(response.theme)}", "", md_cell(terms), counts, ""]
    return "\n".join(lines + md_table(MD_COLUMNS, table)) + "\n"


def to_docx(
    response: ThemeResponse, base_url: str | None = None, made: date | None = None
) -> bytes:
    """A Word document: the theme and date as its title, then the one evidence table."""
    made = made or date.today()
    table = [
        (
            Link(row["document"], page_link(row["url"], base_url)),
            long_date(row["date"]),
            row["page"],
            row["paragraph"],
            row["kind"],
            " ".join(row["quote"].split()),
        )
        for row in rows(response)
    ]
    briefing = Briefing(
        title=f"Theme: {response.theme} ({long_date(made.isoformat())})",
        lines=_summary(response),
        table=EvidenceTable(MD_COLUMNS, table, _DOCX_WEIGHTS),
    )
    return briefing_docx(briefing)
