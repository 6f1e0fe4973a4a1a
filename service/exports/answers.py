"""An answer for a briefing: the question, the answer text with its [n] markers, and the
numbered sources (document linked to its page, date, page, paragraph, verbatim quote), as
Markdown or DOCX."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Query
from fastapi.responses import Response

from service.api.schemas import AskResponse, CitationOut
from service.exports.docx import Briefing, EvidenceTable, Link, briefing_docx, long_date
from service.exports.links import md_cell, md_link, md_table, page_link
from service.exports.media import MEDIA_TYPES, download, file_name

AnswerFormatQuery = Annotated[
    Literal["json", "md", "docx"],
    Query(description="json, md or docx: the answer with its numbered, linked sources."),
]
ANSWER_EXPORTS: dict[int | str, dict[str, object]] = {
    200: {"content": {MEDIA_TYPES["md"]: {}, MEDIA_TYPES["docx"]: {}}}
}

SOURCE_COLUMNS = ("Ref", "Document", "Date", "Page", "Paragraph", "Quote")
_DOCX_WEIGHTS = (1.0, 4.2, 2.3, 1.2, 1.6, 7.5)
NO_SOURCES = "No sources: the papers do not cover this question."


def _pages(citation: CitationOut) -> str:
    if citation.page_end > citation.page:
        return f"{citation.page}–{citation.page_end}"
    return str(citation.page)


def _lead_and_items(response: AskResponse) -> tuple[str, list[str]]:
    """A list answer's lead and entries (its `answer` is the lead, then "\\n- " + each entry);
    a prose answer is all lead."""
    tail = "".join("\n- " + item for item in response.items)
    if response.items and response.answer.endswith(tail):
        return response.answer[: len(response.answer) - len(tail)].strip(), response.items
    return response.answer, []


def answer_markdown(response: AskResponse, question: str, base_url: str | None = None) -> str:
    lines = [f"# Question: {md_cell(question)}", "", response.answer.strip(), "", "## Sources", ""]
    rows = [
        (
            f"[{c.n}]",
            md_link(c.document.title, page_link(c.url, base_url)),
            md_cell(c.document.date or ""),
            _pages(c),
            md_cell(c.paragraph or ""),
            md_cell(c.quote),
        )
        for c in response.citations
    ]
    lines += md_table(SOURCE_COLUMNS, rows) if rows else [NO_SOURCES]
    return "\n".join(lines) + "\n"


def answer_docx(
    response: AskResponse, question: str, base_url: str | None = None, made: date | None = None
) -> bytes:
    made = made or date.today()
    lead, items = _lead_and_items(response)
    rows = [
        (
            f"[{c.n}]",
            Link(c.document.title, page_link(c.url, base_url)),
            long_date(c.document.date),
            _pages(c),
            c.paragraph or "",
            " ".join(c.quote.split()),
        )
        for c in response.citations
    ]
    briefing = Briefing(
        title=f"Question: {question} ({long_date(made.isoformat())})",
        lines=[*lead.split("\n\n"), *([] if rows else [NO_SOURCES])],
        bullets=items,
        table=EvidenceTable(SOURCE_COLUMNS, rows, _DOCX_WEIGHTS, heading="Sources"),
    )
    return briefing_docx(briefing)


def answer_download(
    response: AskResponse, answer_format: Literal["md", "docx"], base_url: str
) -> Response:
    """`POST /ask?format=md|docx`: the export, its links absolute on the service's base URL."""
    question = response.question or ""
    content: str | bytes
    if answer_format == "md":
        content = answer_markdown(response, question, base_url)
    else:
        content = answer_docx(response, question, base_url)
    return download(content, answer_format, file_name("answer", question, answer_format))
