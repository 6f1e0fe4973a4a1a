"""Whether a paper says it is not for the public, and in which words.

Councils mark what they may withhold: reports with exempt information (Local Government Act
1972, Schedule 12A: "not for publication by virtue of paragraph 3"), Part 2 (private) agenda
items, confidential briefings and drafts. The mark is printed on the paper's front, as a line
of its own or a sentence about the paper itself. Public papers mention the same words in
passing ("the draft budget", "a motion to exclude the press … by virtue of paragraph 3 of
Schedule 12A" on a public agenda), so only a marking counts: a short line that is the mark,
or a sentence whose subject is this paper, on its first pages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.models import Page

# The front of a paper: its marks sit on the cover or the report's first page.
FRONT_PAGES = 2
# A line of its own that is a mark says little else ("DRAFT – NOT FOR PUBLICATION").
MARK_MAX_WORDS = 8
# A mark not in capitals counts only at the head of a page: lower down, a lone "Draft" is
# more often a wrapped line's last word than a mark.
HEAD_LINES = 15

_MARK_WORDS = (
    r"not\s+for\s+publication|exempt(?:\s+information|\s+report|\s+item|\s+appendix)?"
    r"|confidential|restricted|part\s+(?:2|ii|two)(?:\s*\(?(?:exempt|private|confidential)\)?)?"
    r"|private\s+and\s+confidential|draft(?:\s+version|\s+for\s+comment|\s+for\s+consultation)?"
)
# A line that is only marks, with joining punctuation: "DRAFT", "NOT FOR PUBLICATION",
# "Part 2 (Exempt)", "CONFIDENTIAL – DRAFT".
_MARK_LINE = re.compile(
    rf"^\W*(?:{_MARK_WORDS})(?:\s*[-–—:/,|]*\s*(?:and\s+)?(?:{_MARK_WORDS}))*\W*$", re.IGNORECASE
)
# A sentence whose subject is this paper: "This report is not for publication by virtue of
# paragraph 3 …", "The appendix contains exempt information", "this item is confidential".
_SELF_STATEMENT = re.compile(
    r"\b(?:this|the)\s+(?:report|paper|appendix|annex|document|item|briefing|information)"
    r"(?:\s+\w+){0,3}?\s+(?:is|are|contains?|includes?)\s+(?:\w+\s+){0,2}?"
    r"(?:not\s+for\s+publication|exempt(?:\s+information)?|confidential|restricted)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Restriction:
    """The paper's own words marking it, and the page they are on."""

    quote: str
    page: int

    def reason(self) -> str:
        return f"'{self.quote}' (page {self.page})"


def find_restriction(pages: Sequence[Page]) -> Restriction | None:
    """The first mark on the paper's front pages saying it is not for the public, if any."""
    for page in pages[:FRONT_PAGES]:
        lines = [" ".join(line.text.split()) for line in page.lines]
        for position, text in enumerate(lines):
            if _is_mark(text, at_head=position < HEAD_LINES):
                return Restriction(text, page.number)
        running = " ".join(lines)  # a statement may wrap across lines
        statement = _SELF_STATEMENT.search(running)
        if statement:
            quote = _to_sentence_end(running, statement.start(), statement.end())
            return Restriction(quote, page.number)
    return None


def _is_mark(line: str, *, at_head: bool) -> bool:
    if len(line.split()) > MARK_MAX_WORDS or not _MARK_LINE.match(line) or line == line.lower():
        return False
    return at_head or line == line.upper()


def _to_sentence_end(text: str, start: int, end: int) -> str:
    """From the statement's start to the end of its sentence, so the quote reads whole."""
    closing = text.find(". ", end)
    return text[start : closing + 1 if closing >= 0 else len(text)].strip()
