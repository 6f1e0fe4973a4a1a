"""Structure: pages of lines → blocks (paragraphs, headings, numbered paragraphs, bullets,
agenda items, recommendations and resolutions) with their section path.

Board papers are typeset reports: paragraphs are separated by extra vertical space, wrapped
lines are hard breaks, and every page repeats a header or footer. We use the vertical gaps
recorded by the loader where there are any, and the text's own shape everywhere else.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from string import ascii_letters

from ingest.models import Block, BlockKind, Line, Page
from ingest.text.sentences import sentence_spans

# A gap this many line pitches or more above a line starts a new paragraph.
PARAGRAPH_GAP = 1.35
# A numbered line needs only this much extra space above it to start a paragraph.
NUMBERED_GAP = 1.08
HEADER_FOOTER_DEPTH = 2  # lines at the top and bottom of a page examined for repeats
HEADER_FOOTER_SHARE = 0.4  # a line repeated on this share of pages is furniture

_PAGE_NUMBER = re.compile(r"^\s*(page\s+)?\d{1,4}(\s*(of|/)\s*\d{1,4})?\s*$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
# Stamps typesetting puts anywhere on a page: "Page 77", "This page is intentionally left blank".
_PAGE_STAMP = re.compile(
    r"^\s*(page\s+\d{1,4}(\s*of\s*\d{1,4})?|this page (is )?(intentionally )?left blank\.?)\s*$",
    re.IGNORECASE,
)
# A contents line: a title, a run of leader dots, a page number. It repeats a heading that
# stands in full later, so it only ever competes with the real section in search.
CONTENTS_MIN_ENTRIES = 2
_CONTENTS_LINE = re.compile(r"(?:\.{4,}|…{2,})[.…\s]*\d{0,4}\s*$")

NUMBERED = re.compile(r"^(?P<num>\d{1,3}(?:\.\d{1,3})*)\.?\s+(?=\S)")
_NUMBERED_STRICT = re.compile(r"^(?:\d{1,3}\.|\d{1,2}(?:\.\d{1,2})+\.?)\s+[A-Z(“\"'‘]")
LETTERED = re.compile(r"^(?P<num>\((?:[a-z]|[ivx]{1,4}|\d{1,2})\)|[a-z]\))\s+")
# A figure as a table cell writes it: "950.4", "£1,099.53", "+£2.7m", "18%", "(3.2)", "2024-25".
_FIGURE = re.compile(r"[(+\-–]?[£$€]?\d[\d,./–-]*(?:%|[kmbn]{1,2})?\)?")
BULLET = re.compile(r"^\s*[•●▪◦·▸►\-–*]\s+|^o\s+(?=[A-Z])")
# The mark that opens a list item or numbered paragraph: "12. ", "3.2 ", "(a) ", "b) ", "• ",
# "o " (a bullet set as a letter). Quotes and answers start after it.
LIST_MARK = re.compile(
    r"^(?:\d{1,3}(?:\.\d{1,3})*\.?|\([a-z0-9]{1,4}\)|[a-z]\)|[•●▪◦·\-–*]|o(?=\s+[A-Z]))\s+"
)
AGENDA_PAGES = re.compile(r"\(Pages?\s+\d+", re.IGNORECASE)
RECOMMENDED = re.compile(r"\bRECOMMEND(?:ED|ATIONS?)\b")
RESOLVED = re.compile(r"\bRESOLVED\b")
_ENDS_MID_SENTENCE = re.compile(
    r"\b(?:a|an|the|of|to|in|on|at|by|for|from|with|and|or|was|were|is|are|be|been|than|"
    r"that|which|who|as|into|per|its|their|our)\s*$"
)
_SENTENCE_END = re.compile(r"[.!?:;)\"'’”]\s*$")
# The line under a report's title on a committee cover sheet: "Report by the Director of …".
_REPORT_BY = re.compile(r"^Report (?:by|of|from)\b", re.IGNORECASE)
SENTENCE_CASE_HEADING_MAX_WORDS = 8
_ADDRESS = re.compile(r"\S@\S|https?://|\bwww\.|[?&]\w+=|\w=\w+&")
_DATE_ONLY = re.compile(
    r"^(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?(?:\d{1,2}(?:st|nd|rd|th)?\s+)?"
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
    r"(?:\s+\d{1,2}(?:st|nd|rd|th)?,)?\s+\d{4}$",
    re.IGNORECASE,
)
# A heading run into its paragraph: "PREVENTING RADICALISATION The partnership oversees …".
_RUN_IN_HEADING = re.compile(
    r"^(?P<heading>[A-Z][A-Z&'’-]+(?:\s+(?:[A-Z][A-Z&'’-]*|&))+)\s+(?P<rest>[A-Z][a-z].*)$",
    re.DOTALL,
)
RUN_IN_HEADING_MIN_CHARS = 12


def blocks_from_pages(pages: Iterable[Page]) -> list[Block]:
    """The document's blocks in reading order, headers/footers and page numbers dropped."""
    pages = list(pages)
    furniture = _repeated_furniture(pages)
    grouped = _group_lines(pages, furniture)
    vocabulary = document_vocabulary(pages)
    blocks = [_make_block(lines, vocabulary) for lines in grouped]
    blocks, run_in = _split_run_in_headings([block for block in blocks if block.text])
    _promote_sentence_case_headings(blocks)
    _assign_sections(blocks, run_in)
    return blocks


# --- headers, footers, page numbers -------------------------------------------------------


def _furniture_key(text: str) -> str:
    return _DIGITS.sub("#", text.strip().lower())


def _edge_lines(page: Page) -> list[str]:
    texts = [line.text for line in page.lines if line.text.strip()]
    return texts[:HEADER_FOOTER_DEPTH] + texts[-HEADER_FOOTER_DEPTH:]


def _repeated_furniture(pages: list[Page]) -> set[str]:
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_furniture_key(text) for text in _edge_lines(page)})
    threshold = max(3, HEADER_FOOTER_SHARE * len(pages))
    return {key for key, count in counts.items() if count >= threshold}


def _is_furniture(line: Line, position_from_edge: int, furniture: set[str]) -> bool:
    if _PAGE_STAMP.match(line.text):
        return True
    if position_from_edge >= HEADER_FOOTER_DEPTH:
        return False
    return bool(_PAGE_NUMBER.match(line.text)) or _furniture_key(line.text) in furniture


def _without_contents(lines: list[Line]) -> list[Line]:
    """The page's lines less its table of contents: from the line before the first
    dot-leader entry to the last one, when the page has several (entries wrap, so the title's
    first words sit on the line above their dots)."""
    leaders = [i for i, line in enumerate(lines) if _CONTENTS_LINE.search(line.text)]
    if len(leaders) < CONTENTS_MIN_ENTRIES:
        return lines
    start, end = max(0, leaders[0] - 1), leaders[-1]
    if end + 1 < len(lines) and re.fullmatch(r"\s*\d{1,4}\s*", lines[end + 1].text):
        end += 1  # the last entry's page number, wrapped onto its own line
    return lines[:start] + lines[end + 1 :]


# --- lines → groups of lines (one per block) ----------------------------------------------


@dataclass
class _PlacedLine:
    text: str
    page: int
    starts_block: bool


def _group_lines(pages: list[Page], furniture: set[str]) -> list[list[_PlacedLine]]:
    placed: list[_PlacedLine] = []
    for page in pages:
        visible = _without_contents([line for line in page.lines if line.text.strip()])
        last = len(visible) - 1
        first_on_page = True
        for index, line in enumerate(visible):
            if _is_furniture(line, min(index, last - index), furniture):
                continue
            previous = placed[-1].text if placed else ""
            if first_on_page:
                starts = _starts_block_across_page(previous, line.text)
            else:
                starts = _starts_block(previous, line)
            following = visible[index + 1] if index < last else None
            if not starts and _stands_alone_as_heading(previous, line, following):
                starts = True
            placed.append(_PlacedLine(line.text.strip(), page.number, starts))
            first_on_page = False
    groups: list[list[_PlacedLine]] = []
    for placed_line in placed:
        if placed_line.starts_block or not groups:
            groups.append([placed_line])
        else:
            groups[-1].append(placed_line)
    return groups


def _starts_block(previous: str, line: Line) -> bool:
    if not previous:
        return True
    text = line.text.strip()
    if line.gap_before is not None and line.gap_before >= PARAGRAPH_GAP:
        # A sentence cannot end on "was", "of" or "the": extra space there is typesetting.
        return not (_ENDS_MID_SENTENCE.search(previous) and not BULLET.match(text))
    if previous.count("(") > previous.count(")"):
        return False  # "(Pages 17" / "- 22)": a bracket left open carries on
    previous_closed = bool(_SENTENCE_END.search(previous))
    if BULLET.match(text):
        return True
    numbered = bool(_NUMBERED_STRICT.match(text) or LETTERED.match(text))
    if numbered and (previous_closed or len(previous) < 60):
        return True
    if numbered and line.gap_before is not None and line.gap_before > NUMBERED_GAP:
        return True  # a new numbered paragraph set with only a little extra space
    if text.startswith("RESOLVED"):
        return True
    # Without gap information (text files, odd PDFs) a short unterminated line is a heading.
    return line.gap_before is None and looks_like_heading(previous) and previous_closed is False


def _stands_alone_as_heading(previous: str, line: Line, following: Line | None) -> bool:
    """A heading set in ordinary line spacing: it follows a finished sentence and a paragraph
    gap follows it."""
    if not _SENTENCE_END.search(previous) or not looks_like_heading(line.text):
        return False
    gap_after = following.gap_before if following is not None else None
    return gap_after is not None and gap_after >= PARAGRAPH_GAP


def _starts_block_across_page(previous: str, text: str) -> bool:
    """A paragraph carries over a page break when it was left open mid-sentence."""
    if not previous:
        return True
    stripped = text.strip()
    if BULLET.match(stripped) or _NUMBERED_STRICT.match(stripped):
        return True
    if _SENTENCE_END.search(previous) or looks_like_heading(previous):
        return True
    return not (stripped[:1].islower() or stripped[:1].isdigit())


# --- one group → one block ----------------------------------------------------------------


def join_lines(lines: Iterable[str], vocabulary: Collection[str] = ()) -> str:
    """Join hard-wrapped lines into running text.

    A word broken at a line-end hyphen is mended ("safe-" + "guarding" → "safeguarding") only
    when the document spells the whole word elsewhere and never the hyphenated one
    (`vocabulary`, lower case); otherwise the hyphen is a real one ("trauma-" + "informed" →
    "trauma-informed") and stays.
    """
    joined = _JoinedText()
    for raw in lines:
        line = " ".join(raw.split())
        if not line:
            continue
        if not joined.parts:
            joined.add(line)
            continue
        head = joined.hyphenated_word()
        tail = re.match(r"[a-z]+", line)
        if (
            head
            and tail
            and (head + tail.group(0)).lower() in vocabulary
            and f"{head}-{tail.group(0)}".lower() not in vocabulary
        ):
            joined.mend(line)
        elif joined.end.endswith(("-", "/")) and not joined.end.endswith(" -"):
            joined.add(line)
        else:
            joined.add(f" {line}")
    return "".join(joined.parts)


class _JoinedText:
    """Running text built from its pieces, keeping what the joins look at (its last two
    characters, and the letters before its last one) so that no join reads the whole text:
    a page of thousands of lines joins in linear time."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.end = ""  # the text's last two characters
        self.letters = ""  # the run of ASCII letters ending just before its last character

    def hyphenated_word(self) -> str:
        """The letters a final hyphen breaks off ("safe" in "… for safe-"), or ""."""
        return self.letters if self.end.endswith("-") else ""

    def add(self, piece: str) -> None:
        last = self.end[-1:]
        letters_at_end = self.letters + last if last and last in ascii_letters else ""
        self._extend(piece, letters_at_end, last)

    def mend(self, line: str) -> None:
        """Drop the final hyphen (after `hyphenated_word`'s letters) and add `line`."""
        self.parts[-1] = self.parts[-1][:-1]
        if not self.parts[-1]:
            self.parts.pop()
        self._extend(line, self.letters, self.letters[-1:])

    def _extend(self, piece: str, letters_at_end: str, last: str) -> None:
        """Add `piece` to a text ending in `letters_at_end`, whose last character is `last`."""
        self.parts.append(piece)
        self.end = (last + piece)[-2:]
        body = piece[:-1]
        not_letters = body.rstrip(ascii_letters)
        self.letters = letters_at_end + body if not not_letters else body[len(not_letters) :]


def document_vocabulary(pages: Iterable[Page]) -> set[str]:
    """Every whole word and hyphenated compound the document spells within a line, lower case."""
    words: set[str] = set()
    for page in pages:
        for line in page.lines:
            found = re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*(?=[^A-Za-z-]|$)", line.text)
            words.update(w.lower() for w in found)
    return words


def _make_block(lines: list[_PlacedLine], vocabulary: Collection[str]) -> Block:
    text = join_lines((line.text for line in lines), vocabulary)
    kind, paragraph = classify(text, line_count=len(lines))
    return Block(
        text=text, kind=kind, page=lines[0].page, page_end=lines[-1].page, paragraph=paragraph
    )


def classify(text: str, *, line_count: int = 1) -> tuple[BlockKind, str | None]:
    """What kind of block this text is, and its printed paragraph number if it has one."""
    paragraph: str | None = None
    numbered = NUMBERED.match(text) if _NUMBERED_STRICT.match(text) else None
    lettered = LETTERED.match(text)
    if numbered:
        paragraph = numbered.group("num")
    elif lettered:
        paragraph = lettered.group("num")
    if AGENDA_PAGES.search(text) and numbered and len(text) < 300:
        return BlockKind.AGENDA_ITEM, paragraph
    if len(text.split()) <= 3 and RECOMMENDED.search(text) and looks_like_heading(text):
        return BlockKind.HEADING, paragraph  # a "RECOMMENDATIONS" heading, not one itself
    if RECOMMENDED.search(text) and re.search(r"\bis\s+RECOMMENDED\b|RECOMMENDATIONS?\b", text):
        return BlockKind.RECOMMENDATION, paragraph
    if RESOLVED.search(text):
        return BlockKind.RESOLUTION, paragraph
    if line_count <= 2 and looks_like_heading(text):
        return BlockKind.HEADING, paragraph
    if BULLET.match(text):
        return BlockKind.BULLET, paragraph
    if numbered or lettered:
        return BlockKind.NUMBERED, paragraph
    return BlockKind.PARAGRAPH, paragraph


def _names_no_section(text: str) -> bool:
    """A line set apart like a heading that names no section: a contact's e-mail, a link, a
    cover sheet's date. It stands alone and opens a chunk, but the text below is not under it."""
    return bool(_ADDRESS.search(text) or _DATE_ONLY.match(text.strip()))


def unmarked_sentence_spans(text: str) -> list[tuple[int, int]]:
    """The sentence spans of `text`, a leading list mark ("•", "12.", "(a)") left out of each:
    the mark is layout, not words to quote."""
    spans = []
    for start, end in sentence_spans(text):
        mark = LIST_MARK.match(text[start:end])
        spans.append((start + mark.end(), end) if mark else (start, end))
    return spans


def looks_like_heading(text: str) -> bool:
    stripped = text.strip()
    body = NUMBERED.sub("", stripped) if _NUMBERED_STRICT.match(stripped) else stripped
    words = body.split()
    if not words or len(words) > 12 or len(body) > 90:
        return False
    if not any(ch.isalpha() for ch in body) or BULLET.match(stripped):
        return False
    if re.search(r"[.,;]\s*$", body) or body[:1].islower():
        return False
    # A table's row ("Total Debt 950.4 885.3 843.8", "Yes 186 18%") is more figures than words.
    figures = sum(1 for word in words if _FIGURE.fullmatch(word))
    if figures >= 2 and figures > len(words) - figures:
        return False
    # Headings are mostly capitalised words; a sentence fragment is mostly lower case.
    capitalised = sum(1 for word in words if word[:1].isupper() or not word[:1].isalpha())
    return capitalised / len(words) >= 0.5 or body.isupper()


def _split_run_in_headings(blocks: list[Block]) -> tuple[list[Block], set[int]]:
    """Posters and summaries set a capitalised heading at the start of its paragraph; it
    names the paragraph's subject, so it becomes a heading of its own, one level below the
    headings set apart (returned: the ids of the run-in heading blocks)."""
    result: list[Block] = []
    run_in: set[int] = set()
    for block in blocks:
        match = _RUN_IN_HEADING.match(block.text) if block.kind is BlockKind.PARAGRAPH else None
        if match is None or len(match.group("heading")) < RUN_IN_HEADING_MIN_CHARS:
            result.append(block)
            continue
        heading, rest = match.group("heading"), match.group("rest")
        result.append(replace(block, text=heading, kind=BlockKind.HEADING, page_end=block.page))
        run_in.add(id(result[-1]))
        result.append(replace(block, text=rest, kind=classify(rest, line_count=2)[0]))
    return result, run_in


def _promote_sentence_case_headings(blocks: list[Block]) -> None:
    """A heading written like a sentence ("Domestic abuse update") is a one-line paragraph
    of a few words with no punctuation, set off by paragraph gaps, that introduces a longer
    paragraph. A run of such lines is a list, not headings, so neither neighbour may be one."""
    short = [_is_short_unpunctuated(block) for block in blocks]
    for index, block in enumerate(blocks[:-1]):
        following = blocks[index + 1]
        if not short[index] or short[index + 1] or (index and short[index - 1]):
            continue
        is_prose = following.kind in (BlockKind.PARAGRAPH, BlockKind.NUMBERED, BlockKind.BULLET)
        if is_prose and len(following.text.split()) > len(block.text.split()) + 3:
            block.kind = BlockKind.HEADING


def _is_short_unpunctuated(block: Block) -> bool:
    text = block.text
    return (
        block.kind is BlockKind.PARAGRAPH
        and len(text.split()) <= SENTENCE_CASE_HEADING_MAX_WORDS
        and text[:1].isupper()
        and not re.search(r"[,.!?:;]", text)
        and not _ENDS_MID_SENTENCE.search(text.lower())
        and not _names_no_section(text)
    )


# --- section paths ------------------------------------------------------------------------


def _heading_level(text: str) -> int:
    numbered = NUMBERED.match(text) if _NUMBERED_STRICT.match(text) else None
    if numbered:
        return min(numbered.group("num").count(".") + 1, 3)
    letters = [ch for ch in text if ch.isalpha()]
    if letters and all(ch.isupper() for ch in letters):
        return 1
    if re.match(r"^(annex|appendix|item|part|section|agenda)\b", text, re.IGNORECASE):
        return 1
    return 2


RUN_IN_HEADING_LEVEL = 3


def _assign_sections(blocks: list[Block], run_in: Collection[int] = ()) -> None:
    stack: list[tuple[int, str]] = []
    previous: Block | None = None
    introducing = _introducing_headings(blocks, run_in)
    for block in blocks:
        if (
            block.kind is BlockKind.HEADING
            and _REPORT_BY.match(block.text)
            and previous is not None
            and previous.kind is BlockKind.HEADING
        ):
            # A cover sheet inside a pack: the title above "Report by …" heads everything up
            # to the next cover, above the report's own headings.
            previous.section = ()
            stack = [(0, previous.text)]
            block.section = (previous.text,)
        elif block.kind is BlockKind.HEADING and _names_no_section(block.text):
            block.section = tuple(title for _, title in stack)
        elif block.kind in (BlockKind.HEADING, BlockKind.AGENDA_ITEM):
            # An agenda item opens the report that follows it in a pack.
            if block.kind is BlockKind.AGENDA_ITEM:
                level = 1
            elif id(block) in run_in:
                level = RUN_IN_HEADING_LEVEL
            else:
                level = _heading_level(block.text)
            if previous is not None and id(previous) in introducing:
                # an introducing heading is a plain one, so it is the one last opened
                level = max(level, stack[-1][0] + 1)
            stack = [(lvl, title) for lvl, title in stack if lvl < level]
            block.section = tuple(title for _, title in stack)
            stack.append((level, block.text))
        else:
            block.section = tuple(title for _, title in stack)
        previous = block


def _introducing_headings(blocks: list[Block], run_in: Collection[int]) -> set[int]:
    """Ids of the headings that introduce the heading set right below them.

    Two headings set alike, one right above the other, with text below the pair and none
    between ("Our Priorities in 2024/25" over "Fighting modern slavery …"): the first has no
    text of its own, so it names what the second belongs to. Only a pair standing alone: a
    run of three or more heading-like lines is a list, a contents page, form labels or table
    cells; a numbered heading or an agenda item says its own level; a repeat is no parent."""

    def plain_heading(block: Block) -> bool:
        return (
            block.kind is BlockKind.HEADING
            and id(block) not in run_in
            and not _NUMBERED_STRICT.match(block.text)
            and not _REPORT_BY.match(block.text)
            and not _names_no_section(block.text)
        )

    def any_heading(index: int) -> bool:
        return 0 <= index < len(blocks) and blocks[index].kind in (
            BlockKind.HEADING,
            BlockKind.AGENDA_ITEM,
        )

    return {
        id(first)
        for index, (first, second) in enumerate(zip(blocks, blocks[1:-1], strict=False))
        if plain_heading(first)
        and plain_heading(second)
        and not any_heading(index - 1)
        and not any_heading(index + 2)  # there is a block below the pair: zip stops before it
        and first.text != second.text
        and _heading_level(first.text) == _heading_level(second.text)
    }
