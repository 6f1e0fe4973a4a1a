"""Pages for files that have none (Word documents, web pages): one page per top-level section.

A `.docx` or an HTML page has no printed pages, yet every citation names a page. Markdown and
plain text, which have no headings a loader can trust, are one page. Word and HTML do mark
their headings (paragraph styles, h1–h6), so each top-level section becomes a page of its
own, numbered 1..n in reading order: a citation's "page 3" is the document's third section,
and the section path the structure step gives each chunk names it. The top level is the
highest heading level that occurs more than once (a ModernGov minutes page has one h1, the
meeting, and an h2 per item: each item is a page); text before the first such heading (the
cover, the title) is page 1. A document with no repeated heading level is one page, as
markdown is.

The structure step drops lines repeated at the top or bottom of most pages as running headers
and footers. Sections are not printed pages: an item that ends, like many others, "RESOLVED:
That the report be noted." is not a footer. So when cutting by section would make any line
look like one, the document stays one page and loses nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ingest.models import Line, Page
from ingest.reading.structure import _repeated_furniture

# The vertical gap the loaders record, in line pitches (as the text loader does): a new
# paragraph, and a line that carries on the one above (a table's next row).
PARAGRAPH = 1.8
SAME_PARAGRAPH = 1.0


@dataclass(frozen=True)
class Entry:
    """A line read from the file: `level` is its heading level (0 a title, 1–6 as h1–h6 or
    Word's "Heading N") or None for body text; `joins` keeps it in the paragraph above."""

    text: str
    level: int | None = None
    joins: bool = False


def pages_by_section(entries: list[Entry]) -> list[Page]:
    entries = [entry for entry in entries if entry.text.strip()]
    counts = Counter(entry.level for entry in entries if entry.level is not None)
    repeated = [level for level, count in counts.items() if count > 1]
    top = min(repeated) if repeated else None
    groups: list[list[Line]] = [[]]
    for entry in entries:
        starts_page = top is not None and entry.level is not None and entry.level <= top
        if starts_page and groups[-1]:
            groups.append([])
        gap = SAME_PARAGRAPH if entry.joins and groups[-1] else PARAGRAPH
        groups[-1].append(Line(text=" ".join(entry.text.split()), gap_before=gap))
    pages = [Page(number, tuple(lines)) for number, lines in enumerate(groups, 1) if lines]
    if len(pages) > 1 and _repeated_furniture(pages):
        return [Page(1, tuple(line for page in pages for line in page.lines))]
    return pages or [Page(1, ())]
