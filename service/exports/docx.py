"""A briefing as a Word document (python-docx): a title, a few lines under it, and one evidence
table whose header repeats on every page and whose linked cells open the cited page.

Used by both exports (a theme scan's places, an answer's sources), so a briefing writer gets
the same layout from either and can paste the table as it is.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from docx import Document
from docx.document import Document as DocumentObject
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_LINK_COLOUR = RGBColor(0x0B, 0x5C, 0xAD)  # the widget's accent
_PAGE_MARGIN = Cm(2)
_CELL_TEXT = Pt(9.5)
_TEXT_WIDTH_CM = 21.0 - 2 * 2  # A4 less both margins


@dataclass(frozen=True)
class Link:
    """A cell's text that opens `url` (an absolute one opens from Word; see `page_link`)."""

    text: str
    url: str


Cell = str | Link


@dataclass(frozen=True)
class EvidenceTable:
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    weights: Sequence[float]  # each column's share of the page's width
    heading: str | None = None  # a heading above the table ("Sources")


@dataclass(frozen=True)
class Briefing:
    title: str
    lines: Sequence[str]  # paragraphs under the title
    table: EvidenceTable
    bullets: Sequence[str] = field(default_factory=tuple)  # a list answer's entries


def long_date(iso: str | None) -> str:
    """An ISO date as a briefing writes it ("5 December 2024"); other text as it is."""
    try:
        day = date.fromisoformat(iso or "")
    except ValueError:
        return iso or ""
    return f"{day.day} {day:%B %Y}"


def briefing_docx(briefing: Briefing) -> bytes:
    """The briefing as the bytes of a .docx file."""
    document = Document()
    for section in document.sections:
        section.left_margin = section.right_margin = _PAGE_MARGIN
        section.top_margin = section.bottom_margin = _PAGE_MARGIN
    document.add_heading(briefing.title, level=0)
    for line in briefing.lines:
        document.add_paragraph(line)
    for bullet in briefing.bullets:
        document.add_paragraph(bullet, style="List Bullet")
    if briefing.table.rows:
        _add_table(document, briefing.table)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _add_table(document: DocumentObject, table: EvidenceTable) -> None:
    if table.heading:
        document.add_heading(table.heading, level=1)
    grid = document.add_table(rows=1, cols=len(table.columns))
    grid.style = "Table Grid"
    grid.autofit = False
    widths = [Cm(_TEXT_WIDTH_CM * w / sum(table.weights)) for w in table.weights]
    header = grid.rows[0]
    _repeat_on_each_page(header._tr)
    for cell, name, width in zip(header.cells, table.columns, widths, strict=True):
        cell.width = width
        title = cell.paragraphs[0].add_run(name)
        title.bold, title.font.size = True, _CELL_TEXT
    for row in table.rows:
        cells = grid.add_row().cells
        for cell, value, width in zip(cells, row, widths, strict=True):
            cell.width = width
            _fill(cell, value)


def _fill(cell: _Cell, value: Cell) -> None:
    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(value.text if isinstance(value, Link) else value)
    run.font.size = _CELL_TEXT
    if isinstance(value, Link):
        _into_hyperlink(paragraph, run, value.url)


def _into_hyperlink(paragraph: Paragraph, run: Run, url: str) -> None:
    """The run moved inside a <w:hyperlink> to `url` (python-docx reads hyperlinks but has
    no call to add one)."""
    relation = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    run.font.color.rgb = _LINK_COLOUR
    run.font.underline = True
    hyperlink = OxmlElement("w:hyperlink")
    hyperlink.set(qn("r:id"), relation)
    hyperlink.append(run._r)  # moves the run into the link
    paragraph._p.append(hyperlink)


def _repeat_on_each_page(row: object) -> None:
    properties = row.get_or_add_trPr()  # type: ignore[attr-defined]
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    properties.append(repeat)
