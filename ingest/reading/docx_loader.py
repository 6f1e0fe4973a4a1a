"""Word (.docx) papers → pages of lines, read with python-docx.

Paragraphs and tables are read in document order. A paragraph styled "Title" or "Heading N"
is a heading of that level; a numbered or bulleted paragraph gets the number Word shows
("3.", "3.2", "(a)", "•"), worked out from the document's numbering definitions as Word
counts them, or from its list style ("List Number", "List Bullet") where it has none. Each
table row is a line, "cell | cell | …"; where the first row is a simple header, the rows under
it name their columns ("Service: Libraries | Cost: £1.2m"), so a row found alone still says
what its figures are. A table's rows stay one paragraph.

Word documents have no fixed pages: see `ingest.reading.unpaged` for the page-like
locations (one per top-level section) that citations name.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from ingest.models import Page
from ingest.reading.unpaged import Entry, pages_by_section

log = logging.getLogger(__name__)

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # an old binary Word (.doc) file
# A header row is simple when every cell is a short label.
HEADER_CELL_MAX_WORDS = 6


class DocxError(Exception):
    """The file is not a readable .docx; the message says why and what to do."""


def read_docx(path: Path) -> tuple[list[Page], str | None]:
    """The document's pages and its title (the "Title" paragraph, if any)."""
    import docx

    try:
        document = docx.Document(str(path))
        entries = list(_entries(document))
    except Exception as exc:  # corrupt zips and XML raise many kinds; none may stop a batch
        log.debug("Word document not readable: %s", path, exc_info=True)
        with path.open("rb") as handle:
            head = handle.read(4)
        if head == _OLE_MAGIC:
            raise DocxError(
                "an old Word (.doc) file named .docx: open it in Word, save it as .docx "
                "(or PDF) and ingest that"
            ) from exc
        detail = str(exc).strip()[:160] or type(exc).__name__
        raise DocxError(
            f"not a readable Word document: the file is damaged or is not a .docx ({detail}); "
            "open it in Word and save it again, or export it as PDF"
        ) from exc
    title = next((entry.text for entry in entries if entry.level == 0), None)
    return pages_by_section(entries), title


def _entries(document: Any) -> list[Entry]:
    numbering = _Numbering(document)
    entries: list[Entry] = []
    for item in document.iter_inner_content():
        if hasattr(item, "rows"):
            entries.extend(_table_entries(item))
            continue
        text = item.text.strip()
        if not text:
            continue
        style = _style_name(item)
        level = _heading_level(style)
        mark = numbering.mark(item, style) if level is None else ""
        if mark and not text.startswith(mark):
            text = f"{mark} {text}"
        entries.append(Entry(text, level))
    return entries


def _style_name(paragraph: Any) -> str:
    try:
        return str(paragraph.style.name) if paragraph.style is not None else ""
    except (KeyError, ValueError, AttributeError):
        return ""


def _heading_level(style: str) -> int | None:
    if style.lower() == "title":
        return 0
    match = _HEADING_STYLE.match(style.strip())
    return int(match.group(1)) if match else None


def _table_entries(table: Any) -> list[Entry]:
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:  # a merged cell is given once per grid column it spans
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append(cells)
    if not rows:
        return []
    header = rows[0]
    simple = len(rows) > 1 and all(
        cell and len(cell.split()) <= HEADER_CELL_MAX_WORDS and not re.search(r"\d", cell)
        for cell in header
    )
    lines = [" | ".join(header)]
    for cells in rows[1:]:
        if simple and len(cells) == len(header):
            lines.append(
                " | ".join(
                    f"{name}: {value}" if value else name
                    for name, value in zip(header, cells, strict=True)
                )
            )
        else:
            lines.append(" | ".join(cells))
    return [Entry(line, joins=index > 0) for index, line in enumerate(lines)]


# --- list numbers as Word shows them -------------------------------------------------------

_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
          (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]  # fmt: skip


def _roman(number: int) -> str:
    out = ""
    for value, letters in _ROMAN:
        while number >= value:
            out += letters
            number -= value
    return out


def _letters(number: int) -> str:
    # Word's letters run a … z, aa … zz.
    return chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)


def _format(number: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return _letters(number)
    if fmt == "upperLetter":
        return _letters(number).upper()
    if fmt == "lowerRoman":
        return _roman(number)
    if fmt == "upperRoman":
        return _roman(number).upper()
    return str(number)


class _Numbering:
    """Word's list numbers, counted as Word counts them: per list, per level, a level's
    count restarting under each item of the level above."""

    def __init__(self, document: Any) -> None:
        self.levels: dict[tuple[str, int], tuple[str, str, int]] = {}
        self.counters: dict[str, list[int]] = {}
        self.plain_count = 0
        try:
            self._read_definitions(document.part.numbering_part.element)
        except Exception:  # no numbering part, or one we cannot read: list styles still count
            log.debug("no readable numbering definitions", exc_info=True)

    def _read_definitions(self, root: Any) -> None:
        from docx.oxml.ns import qn

        def val(element: Any, tag: str) -> str | None:
            found = element.find(qn(tag)) if element is not None else None
            return found.get(qn("w:val")) if found is not None else None

        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for definition in root.findall(qn("w:abstractNum")):
            levels = {}
            for lvl in definition.findall(qn("w:lvl")):
                ilvl = int(lvl.get(qn("w:ilvl"), "0"))
                fmt = val(lvl, "w:numFmt") or "decimal"
                text = val(lvl, "w:lvlText") or ""
                start = int(val(lvl, "w:start") or "1")
                levels[ilvl] = (fmt, text, start)
            abstract[definition.get(qn("w:abstractNumId"), "")] = levels
        for num in root.findall(qn("w:num")):
            abstract_id = val(num, "w:abstractNumId") or ""
            for ilvl, level in abstract.get(abstract_id, {}).items():
                self.levels[(num.get(qn("w:numId"), ""), ilvl)] = level

    def mark(self, paragraph: Any, style: str) -> str:
        num_id, ilvl = _num_properties(paragraph)
        if num_id is not None and num_id != "0" and (num_id, ilvl) in self.levels:
            return self._render(num_id, ilvl)
        if style.lower().startswith("list bullet"):
            return "•"
        if style.lower().startswith("list number"):
            self.plain_count += 1
            return f"{self.plain_count}."
        return ""

    def _render(self, num_id: str, ilvl: int) -> str:
        fmt, text, _ = self.levels[(num_id, ilvl)]
        if fmt == "bullet":
            return "•"
        if fmt == "none":
            return ""
        counters = self.counters.setdefault(num_id, [0] * 9)
        if counters[ilvl] == 0:
            counters[ilvl] = self.levels[(num_id, ilvl)][2] - 1
        counters[ilvl] += 1
        for deeper in range(ilvl + 1, 9):
            counters[deeper] = 0

        def level_text(match: re.Match[str]) -> str:
            level = int(match.group(1)) - 1
            level_fmt, _, start = self.levels.get((num_id, level), ("decimal", "", 1))
            return _format(counters[level] or start, level_fmt)

        return re.sub(r"%(\d)", level_text, text).strip()


def _num_properties(paragraph: Any) -> tuple[str | None, int]:
    """The paragraph's list (numId) and level, from its own properties or its style's."""
    for element in (paragraph._p, getattr(paragraph.style, "element", None)):
        ppr = getattr(element, "pPr", None)
        num_pr = getattr(ppr, "numPr", None)
        if num_pr is None or num_pr.numId is None:
            continue
        ilvl = num_pr.ilvl.val if num_pr.ilvl is not None else 0
        return str(num_pr.numId.val), int(ilvl)
    return None, 0
