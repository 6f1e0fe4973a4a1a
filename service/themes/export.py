"""A theme scan as a briefing-ready evidence table: Markdown or CSV, one row per place."""

from __future__ import annotations

import csv
import io

from service.themes.schemas import ThemeResponse

CSV_COLUMNS = (
    "document", "document_id", "date", "page", "section", "paragraph", "kind", "quote", "url",
    "text",
)  # fmt: skip
MD_COLUMNS = ("Document", "Date", "Page", "Paragraph", "Kind", "Quote")


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


def _cell(text: str) -> str:
    # A table cell is one line; a pipe would end the cell.
    return " ".join(text.split()).replace("|", "\\|")


def to_markdown(response: ThemeResponse) -> str:
    places = sum(group.count for group in response.documents)
    lines = [
        f"# Theme: {_cell(response.theme)}",
        "",
        f"Terms searched: {', '.join(_cell(t) for t in response.terms)}.",
        f"{places} places in {len(response.documents)} documents.",
        "",
        "| " + " | ".join(MD_COLUMNS) + " |",
        "|" + "---|" * len(MD_COLUMNS),
    ]
    for row in rows(response):
        cells = (
            row["document"],
            row["date"],
            row["page"],
            row["paragraph"],
            row["kind"],
            row["quote"],
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
