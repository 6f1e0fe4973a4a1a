"""HTML (.html, .htm) papers → pages of lines, read with the standard library's parser.

Council minutes and agendas are published as web pages (ModernGov among others): ordinary
HTML with headings, numbered items, paragraphs and tables. What is not the paper is dropped:
scripts, styles, the site's navigation, header and footer, forms' buttons. h1–h6 are
headings; each p, li, div, dt/dd, caption and heading is a line of its own; a list item shows
its number ("3.") or a bullet; a table row of plain cells is one line, "cell | cell | …", and
a table used for layout (a cell holding paragraphs, as ModernGov sets an item's number beside
its text) is read as the paragraphs it holds, the loose cells before them ("7.") leading the
first one. A page has no printed pages: see `ingest.reading.unpaged` for the page-like
locations (one per top-level section) that citations name.
"""

from __future__ import annotations

from html.parser import HTMLParser

from ingest.models import Page
from ingest.reading.unpaged import Entry, pages_by_section

# Whole elements that are not the paper.
_SKIPPED = frozenset(
    "script style nav header footer noscript template head svg button select iframe object".split()
)
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
# Elements that start and end a line of their own.
_BLOCKS = frozenset(
    "p div li dt dd caption blockquote pre section article main aside figure figcaption "
    "address table tr ul ol dl form fieldset legend center body".split()
) | frozenset(_HEADINGS)
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


def read_html(text: str) -> tuple[list[Page], str | None]:
    """The page's pages and its title (its first h1, if any)."""
    parser = _PaperParser()
    parser.feed(text)
    parser.close()
    title = next((entry.text for entry in parser.entries if entry.level == 1), None)
    return pages_by_section(parser.entries), title


class _Row:
    def __init__(self) -> None:
        self.cells: list[str] = []
        self.layout = False  # a cell holds paragraphs: read them as text, not a row


class _PaperParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.entries: list[Entry] = []
        self.buffer: list[str] = []
        self.skipping: list[str] = []  # open elements whose content is dropped
        self.heading: int | None = None
        self.lists: list[list[int] | None] = []  # per open list: [next number] or None (ul)
        self.rows: list[_Row] = []
        self.in_cell = 0
        self.lead = ""  # a layout row's loose cells, put before the next line
        self.tables: list[int] = []  # per open table: rows read so far

    # --- parser callbacks ---------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            if tag in _SKIPPED:
                self.skipping.append(tag)
            return
        if tag in _SKIPPED:
            self.skipping.append(tag)
            return
        if tag == "br":
            self._flush()
            return
        if tag in ("td", "th"):
            if self.in_cell and self.rows and not self.rows[-1].layout:
                self._end_cell()  # the last cell left open: HTML may omit </td>
            self.in_cell += 1
            if self.rows and not self.rows[-1].layout:
                self.buffer = []
            return
        if tag in _BLOCKS:
            self._block_starts_in_row()
            self._flush()
        if tag == "ol":
            start = dict(attrs).get("start") or "1"
            self.lists.append([int(start) if start.strip().isdigit() else 1])
        elif tag == "ul":
            self.lists.append(None)
        elif tag == "li":
            counter = self.lists[-1] if self.lists else None
            if counter is None:
                self.buffer.append("• ")
            else:
                value = dict(attrs).get("value")
                if value and value.strip().isdigit():
                    counter[0] = int(value)
                self.buffer.append(f"{counter[0]}. ")
                counter[0] += 1
        elif tag == "tr":
            self.rows.append(_Row())
        elif tag == "table":
            self.tables.append(0)
        elif tag in _HEADINGS:
            self.heading = _HEADINGS[tag]

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and not self.skipping:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if tag in _VOID:
            return
        if tag in ("td", "th"):
            if self.in_cell and self.rows and not self.rows[-1].layout:
                self._end_cell()
            else:
                self.in_cell = max(0, self.in_cell - 1)
                self._flush()
            return
        if tag == "tr" and self.rows:
            if self.in_cell and not self.rows[-1].layout:
                self._end_cell()
            row = self.rows.pop()
            if not row.layout and any(row.cells):
                self.buffer = []
                # a table's rows are one paragraph: each alone would pass for a heading
                joins = bool(self.tables) and self.tables[-1] > 0
                if self.tables:
                    self.tables[-1] += 1
                self._emit(" | ".join(cell for cell in row.cells if cell), None, joins)
            elif row.layout:
                self._flush()
            return
        if tag == "table" and self.tables:
            self.tables.pop()
        if tag in _BLOCKS:
            self._flush()
        if tag in ("ol", "ul") and self.lists:
            self.lists.pop()
        elif tag in _HEADINGS:
            self.heading = None

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.buffer.append(data)

    def close(self) -> None:
        super().close()
        self._flush()
        if self.lead:
            self._emit("", level=None)

    # --- lines --------------------------------------------------------------------------

    def _block_starts_in_row(self) -> None:
        """A paragraph inside a table cell: the row is layout, its loose cells lead on."""
        if not self.rows or not self.in_cell or self.rows[-1].layout:
            return
        row = self.rows[-1]
        row.layout = True
        loose = [*row.cells, " ".join("".join(self.buffer).split())]
        self.lead = " ".join(cell for cell in loose if cell)
        self.buffer = []

    def _end_cell(self) -> None:
        self.in_cell = max(0, self.in_cell - 1)
        self.rows[-1].cells.append(" ".join("".join(self.buffer).split()))
        self.buffer = []

    def _flush(self) -> None:
        if self.rows and self.in_cell and not self.rows[-1].layout:
            return  # a plain cell's text waits for its row
        text = " ".join("".join(self.buffer).split())
        self.buffer = []
        if text:
            self._emit(text, level=self.heading)

    def _emit(self, text: str, level: int | None, joins: bool = False) -> None:
        if self.lead:
            text = f"{self.lead} {text}".strip()
            self.lead = ""
        if text:
            self.entries.append(Entry(text, level, joins))
