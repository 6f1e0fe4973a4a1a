"""The records that flow through ingestion: files → pages → blocks → chunks.

Plain dataclasses, no behaviour: every later stage (index, retrieval, answers) reads these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class Line:
    """One line of text as laid out on a page; `gap_before` is the vertical space above it
    in units of the page's usual line pitch (1.0 = ordinary line spacing, None = unknown)."""

    text: str
    gap_before: float | None = None
    indent: float | None = None


@dataclass(frozen=True)
class Page:
    number: int  # 1-based, as a reader of the PDF counts
    lines: tuple[Line, ...]
    ocr: bool = False  # its text was read from its picture by OCR, not from a text layer

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass(frozen=True)
class LoadedFile:
    """A file read into pages; `sha256` identifies its content. `repairs`: what the PDF
    reader had to mend or pass over to read it (a wrong xref, a missing object)."""

    path: str
    sha256: str
    pages: tuple[Page, ...]
    pdf_title: str | None = None
    repairs: tuple[str, ...] = ()

    @property
    def ocr_pages(self) -> tuple[int, ...]:
        """The numbers of the pages whose text was read by OCR."""
        return tuple(page.number for page in self.pages if page.ocr)


class BlockKind(StrEnum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    NUMBERED = "numbered"  # a numbered paragraph: "12.", "3.2", "(a)"
    BULLET = "bullet"
    AGENDA_ITEM = "agenda_item"
    RECOMMENDATION = "recommendation"  # "is RECOMMENDED to ..."
    RESOLUTION = "resolution"  # "RESOLVED"
    TABLE_ROW = "table_row"


@dataclass
class Block:
    """A paragraph-level unit of a document, in reading order."""

    text: str
    kind: BlockKind
    page: int
    page_end: int
    section: tuple[str, ...] = ()
    paragraph: str | None = None  # the paragraph's own number or letter, as printed


@dataclass(frozen=True)
class DocumentMeta:
    doc_id: str
    source: str  # file name
    title: str
    body: str
    date: str | None  # ISO date, or None when unknown
    doc_type: str
    access: str = "public"
    url: str | None = None


@dataclass
class Chunk:
    chunk_id: str
    doc_id: str
    version: str  # the document version: its file's bytes and the reading rules (versions.py)
    ordinal: int
    text: str
    page: int
    page_end: int
    section: str
    paragraph: str | None
    kind: str
    char_start: int
    char_end: int
    ocr: bool = False  # some of its text was read by OCR from a scanned page
    meta: DocumentMeta = field(repr=False, default=None)  # type: ignore[assignment]

    def context_text(self) -> str:
        """What the embedder and keyword index read: the chunk with its document title and
        section path, so a heading's words find the paragraphs under it."""
        heading = f"{self.meta.title}" if self.meta else ""
        if self.section:
            heading = f"{heading} — {self.section}" if heading else self.section
        return f"{heading}\n{self.text}" if heading else self.text
