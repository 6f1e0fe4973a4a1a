"""Structured extraction: blocks → the paper's recommendations, decisions and agenda.

Pure (blocks in, records out), run at ingest and stored with the document version. Every
text kept is verbatim from the blocks — a block, a sentence of one, or a run cut at a list
mark — so a summary can quote it and a check can find it on its page.

- Recommendations: "X is RECOMMENDED to …" (any case), "are asked to note …", "It is
  recommended that …", and whatever follows a "Recommendation(s)" heading; a lead-in that
  ends in a colon takes the lettered, numbered or bulleted items after it.
- Decisions: "RESOLVED" with its items, and sentences saying a body or "it" agreed something.
- Agenda: numbered agenda items "5. Title (Pages 1 - 16)" with their printed page ranges.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ingest.models import Block, BlockKind
from ingest.reading.structure import RESOLVED
from ingest.text.sentences import sentence_spans

_RECOMMENDED = re.compile(
    r"^(?P<subject>[^.;:]{0,120}?)\b(?:is|are)\s+(?:RECOMMENDED|recommended|asked|requested)\s+to\b"
    r"|\bit\s+is\s+recommended\s+that\b",
    re.IGNORECASE,
)
# A subject with a relative clause or a negation is a statement about a recommendation.
_NOT_A_SUBJECT = re.compile(r"\b(?:that|which|not|no|if|when)\b", re.IGNORECASE)
_RECOMMENDATION_HEADING = re.compile(r"^recommendations?\s*:?$", re.IGNORECASE)
_PARAGRAPH_NUMBER = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3})*\.?|\([a-z]\)|[a-z]\))\s+")
_AGREED = re.compile(
    r"\bit\s+was\s+agreed\b|\bagreed\s+by\s+the\b"
    r"|\b(?:board|committee|group|partnership|panel|meeting|members|council)\s+"
    r"(?:has\s+|have\s+|had\s+)?agreed\b",
    re.IGNORECASE,
)
# Inline list marks: "a) … b) …", "1. … 2. …", "• … •" at the start or after a sentence.
_INLINE_MARK = re.compile(
    r"(?:^|(?<=[.;:]\s)|(?<=[.;:]\*\*\s))(?P<label>\([a-z]\)|[a-z]\)|\d{1,2}\.(?!\d)|•)\s+"
)
# Minutes run the next item's heading into the text: "82 Outcomes Framework (Agenda No. 11)".
_NEXT_MINUTE = re.compile(r"\s\d{1,4}\s+[A-Z][^()\d]{2,90}\((?:Agenda|Item)\s+No\.?\s*\d+\)")
_AGENDA_LINE = re.compile(
    r"^(?P<number>\d{1,3})\.?\s+(?P<title>.+?)\s*"
    r"(?:\(Pages?\s+(?P<first>\d+)(?:\s*[-–]\s*(?P<last>\d+))?\)\s*)?$"
)
_PRESENTER = re.compile(r"^Report\s+(?:by|of)\s+", re.IGNORECASE)
_VERB_LIST = (
    "note approve agree endorse comment consider delegate authorise authorize adopt accept "
    "receive request support recommend ask thank confirm welcome continue review establish "
    "that"
)
_DECISION_VERBS = frozenset(_VERB_LIST.split())
_TRAILING_MARKS = re.compile(r"[\s•*]+$")


@dataclass
class ExtractedItem:
    label: str | None  # "(a)", "1.", "•" as printed; None for an unmarked paragraph
    text: str
    page: int
    page_end: int


@dataclass
class Decision:
    kind: str  # "recommendation", "resolution" or "agreed"
    text: str  # the lead-in (or the whole decision), verbatim
    page: int
    page_end: int
    paragraph: str | None
    section: str  # the section path, " > "-joined: in a pack, the agenda item it belongs to
    items: list[ExtractedItem] = field(default_factory=list)

    def full_text(self) -> str:
        items = " ".join(f"{i.label} {i.text}" if i.label else i.text for i in self.items)
        return f"{self.text} {items}".strip()


@dataclass
class AgendaItem:
    number: str
    title: str
    page: int  # the PDF page the agenda lists it on
    first_page: int | None  # the pack's printed page range, as the agenda gives it
    last_page: int | None
    presenter: str | None = None  # "Report by Director of Adult Social Care"


@dataclass
class Extraction:
    decisions: list[Decision] = field(default_factory=list)
    agenda: list[AgendaItem] = field(default_factory=list)

    @property
    def recommendations(self) -> list[Decision]:
        return [d for d in self.decisions if d.kind == "recommendation"]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Extraction:
        data: dict[str, Any] = json.loads(text)
        decisions = [
            Decision(**{**d, "items": [ExtractedItem(**i) for i in d.get("items", [])]})
            for d in data.get("decisions", [])
        ]
        return cls(decisions, [AgendaItem(**a) for a in data.get("agenda", [])])


def extract(blocks: list[Block]) -> Extraction:
    return Extraction(_decisions(blocks), _agenda(blocks))


# --- decisions ----------------------------------------------------------------------------


def _decisions(blocks: list[Block]) -> list[Decision]:
    decisions: list[Decision] = []
    consumed: set[int] = set()
    for index, block in enumerate(blocks):
        if index in consumed:
            continue
        text = block.text.strip()
        after_heading = index > 0 and bool(_RECOMMENDATION_HEADING.match(blocks[index - 1].text))
        if _RECOMMENDATION_HEADING.match(text):
            continue  # the heading itself says nothing; the block after it does
        if RESOLVED.search(text):
            decision = _decision("resolution", _from_resolved(text), block)
        elif after_heading or _is_recommendation(text):
            decision = _decision("recommendation", text, block)
        elif _RECOMMENDED.search(text):
            decisions.extend(_recommending_sentences(block))
            continue
        else:
            decisions.extend(_agreed_sentences(block))
            continue
        inline = _split_inline(decision.text, block)
        if len(inline) > 1 and inline[0].label is not None:
            decision.text, decision.items = "", inline
        elif len(inline) > 1:
            decision.text, decision.items = inline[0].text, inline[1:]
        elif decision.text.rstrip(" *").endswith(":"):
            decision.items, taken = _following_items(blocks, index + 1, decision.kind)
            consumed.update(taken)
        decisions.append(decision)
    return decisions


def _is_recommendation(text: str) -> bool:
    match = _RECOMMENDED.search(_PARAGRAPH_NUMBER.sub("", text, count=1))
    if not match or match.start() > 0:
        return False
    subject = match.group("subject")
    return subject is None or not _NOT_A_SUBJECT.search(subject)


def _decision(kind: str, text: str, block: Block) -> Decision:
    section = " > ".join(block.section)
    return Decision(kind, text, block.page, block.page_end, block.paragraph, section)


def _from_resolved(text: str) -> str:
    """The resolution itself: from "RESOLVED" to the end of its sentence or list."""
    text = text[RESOLVED.search(text).start() :]  # type: ignore[union-attr]
    text = _cut_at_next_minute(text)
    if re.match(r"RESOLVED\s*(?:to|that)?\s*:?\s*$", text) or re.search(r":\s*$", text):
        return text
    if _INLINE_MARK.search(text, 1):
        return text
    spans = sentence_spans(text)
    if len(spans) > 1 and len(text[: spans[0][1]]) > len("RESOLVED: "):
        return text[: spans[0][1]]
    return text


def _cut_at_next_minute(text: str) -> str:
    match = _NEXT_MINUTE.search(text)
    return text[: match.start()].rstrip() if match else text


def _split_inline(text: str, block: Block) -> list[ExtractedItem]:
    marks = list(_INLINE_MARK.finditer(text))
    if len(marks) < 2 or not _sequential([m.group("label") for m in marks]):
        return [ExtractedItem(None, text, block.page, block.page_end)]
    pieces: list[ExtractedItem] = []
    if marks[0].start() > 0:
        pieces.append(
            ExtractedItem(None, text[: marks[0].start()].strip(), block.page, block.page_end)
        )
    for mark, following in zip(marks, marks[1:] + [None], strict=True):
        end = following.start() if following else len(text)
        item = _clean(_cut_at_next_minute(text[mark.end() : end]))
        pieces.append(ExtractedItem(mark.group("label"), item, block.page, block.page_end))
    return pieces


def _sequential(labels: list[str]) -> bool:
    if all(label == "•" for label in labels):
        return True
    keys = [re.sub(r"[().]", "", label) for label in labels]
    if all(key.isdigit() for key in keys):
        return [int(k) for k in keys] == list(range(int(keys[0]), int(keys[0]) + len(keys)))
    if all(len(key) == 1 and key.isalpha() for key in keys):
        return [ord(k) for k in keys] == list(range(ord(keys[0]), ord(keys[0]) + len(keys)))
    return False


def _following_items(
    blocks: list[Block], start: int, kind: str
) -> tuple[list[ExtractedItem], set[int]]:
    items: list[ExtractedItem] = []
    taken: set[int] = set()
    for index in range(start, len(blocks)):
        block = blocks[index]
        text = block.text.strip()
        if not _TRAILING_MARKS.sub("", text):
            taken.add(index)  # a stray bullet mark on its own line
            continue
        if block.kind in (BlockKind.HEADING, BlockKind.AGENDA_ITEM) or RESOLVED.search(text):
            break
        if items and text[:1].islower():  # the item carried over a page break
            items[-1].text = f"{items[-1].text} {_clean(text)}"
            items[-1].page_end = block.page_end
            taken.add(index)
            continue
        marked = block.kind in (BlockKind.NUMBERED, BlockKind.BULLET) and (
            block.paragraph is None or not block.paragraph.isdigit() or not items
        )
        first_word = re.sub(r"[^a-z]", "", (text.split() or [""])[0].lower())
        unmarked = block.kind in (BlockKind.PARAGRAPH, BlockKind.RECOMMENDATION) and (
            first_word in _DECISION_VERBS or _is_recommendation(text)
        )
        if not (marked or unmarked):
            break
        taken.add(index)
        ends_resolution = bool(_NEXT_MINUTE.search(text))
        for item in _split_inline(_cut_at_next_minute(text), block):
            label, body = item.label, item.text
            if label is None and block.paragraph and marked:
                label, body = block.paragraph, re.sub(r"^\S+\s+", "", body, count=1)
            items.append(ExtractedItem(label, _clean(body), block.page, block.page_end))
        if ends_resolution:
            break  # the next minute's heading was run into this item
    return items, taken


def _clean(text: str) -> str:
    text = re.sub(r"^(?:[•●▪\-–]|\d{1,3}(?:\.\d{1,3})*\.|\([a-z]\))\s+", "", text.strip())
    return _TRAILING_MARKS.sub("", text)


def _agreed_sentences(block: Block) -> list[Decision]:
    found = []
    for start, end in sentence_spans(block.text):
        sentence = block.text[start:end]
        # A sentence cut off by a page break would not read as a decision.
        if _AGREED.search(sentence) and len(sentence) >= 30 and sentence.endswith((".", "!")):
            found.append(_decision("agreed", _clean(sentence), block))
    return found


def _recommending_sentences(block: Block) -> list[Decision]:
    """Recommendations made mid-paragraph ("It is recommended that …"): the sentence alone."""
    found = []
    for start, end in sentence_spans(block.text):
        sentence = _clean(block.text[start:end])
        if _is_recommendation(sentence):
            found.append(_decision("recommendation", sentence, block))
    return found


# --- agenda -------------------------------------------------------------------------------


def _agenda(blocks: list[Block]) -> list[AgendaItem]:
    listed = [i for i, b in enumerate(blocks) if b.kind is BlockKind.AGENDA_ITEM]
    if not listed:
        return []
    # Items without papers ("6. ICB Update") sit between the ones with page ranges.
    first_page, last_index = blocks[listed[0]].page, listed[-1]
    items: list[AgendaItem] = []
    for index in range(last_index + 1):
        block = blocks[index]
        if block.page < first_page - 1 or not block.paragraph or not block.paragraph.isdigit():
            continue
        if block.kind not in (BlockKind.AGENDA_ITEM, BlockKind.HEADING, BlockKind.NUMBERED):
            continue
        match = _AGENDA_LINE.match(block.text)
        if not match or len(block.text) > 200:
            continue
        if items and int(match["number"]) <= int(items[-1].number):
            continue
        following = blocks[index + 1].text if index + 1 < len(blocks) else ""
        items.append(
            AgendaItem(
                number=match["number"],
                title=match["title"].strip(),
                page=block.page,
                first_page=int(match["first"]) if match["first"] else None,
                last_page=int(match["last"] or match["first"]) if match["first"] else None,
                presenter=following if _PRESENTER.match(following) else None,
            )
        )
    return items
