"""What a place is: a priority, a review, a recommendation, a decision, an action, a figure.

Recognised from the papers' own structure (the chunk's block kind, its section path, the
list a paragraph sits in) and from the wording board papers use for each; the vocabulary is
that of UK committee papers in general, not of any one council's.
"""

from __future__ import annotations

import re
from enum import StrEnum

from service.query.dates import YEAR


class PlaceKind(StrEnum):
    PRIORITY = "priority"
    REVIEW = "review"
    RECOMMENDATION = "recommendation"
    DECISION = "decision"
    ACTION = "action"
    FIGURE = "figure"
    OTHER = "other"


# The words a reader uses to ask for a kind ("which priorities …"), longest first.
_KIND_WORDS: dict[PlaceKind, re.Pattern[str]] = {
    PlaceKind.PRIORITY: re.compile(r"\b(priorit(y|ies|ised)|objectives?|aims?|goals?)\b", re.I),
    PlaceKind.REVIEW: re.compile(r"\breviews?\b", re.I),
    PlaceKind.RECOMMENDATION: re.compile(r"\brecommend(ation|ations|ed|s)?\b", re.I),
    PlaceKind.DECISION: re.compile(r"\b(decisions?|decided|resolutions?|resolved)\b", re.I),
    PlaceKind.ACTION: re.compile(r"\b(actions?|action plans?)\b", re.I),
    PlaceKind.FIGURE: re.compile(r"\b(figures?|statistics?|numbers?|data|counts?)\b", re.I),
}

_PRIORITY_CONTEXT = re.compile(r"\b(priorit(y|ies)|objectives?|aims|ambitions?|goals?)\b", re.I)
_REVIEW = re.compile(
    r"\b((safeguarding )?adults? reviews?|(domestic )?homicide reviews?|mortality reviews?"
    r"|(serious |learning |child safeguarding practice )?case reviews?|strategic reviews?"
    r"|practice reviews?|(SAR|DHR|CSPR|SCR|LeDeR)s?)\b",
    re.I,
)
_RECOMMENDATION = re.compile(r"\bRECOMMEND(ED|ATIONS?)\b|\bis recommended to\b")
_DECISION = re.compile(
    r"\bRESOLVED\b|\bAGREED\b|\b(it was|the \w+ (has )?) ?agreed\b|\bagreed to\b"
)
_ACTION = re.compile(r"\bactions?\b|\baction plan\b", re.I)
_ACTION_LEAD = re.compile(r"^\s*(action|actions)\b\s*[:\-–]", re.I)
_LIST_ITEM = re.compile(r"^\s*([•●▪◦·▸►\-–*]|o\s|\(?[a-z0-9]{1,3}[.)])\s*")
# A count or a percentage, but not a year, a date or a paragraph number on its own.
_PERCENT = re.compile(r"\d+(\.\d+)?\s?%|\bper ?cent\b", re.I)
_COUNT = re.compile(r"(?<![\d.,/£-])\b(\d{1,3}(,\d{3})+|\d+)\b(?![\d./-])")
_MONTH_NEAR = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s*$|^\s*(st|nd|rd|th)?\s*"
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
    re.I,
)


def kinds_asked_for(text: str) -> list[PlaceKind]:
    """The kinds a theme or question names ("which priorities mention …"), in that order."""
    found = [(m.start(), kind) for kind, rx in _KIND_WORDS.items() if (m := rx.search(text))]
    return [kind for _, kind in sorted(found)]


def kind_words(text: str) -> list[tuple[int, int]]:
    """Spans of the kind words in `text`, so term parsing can leave them out."""
    return [m.span() for rx in _KIND_WORDS.values() for m in rx.finditer(text)]


# Numbers that label rather than count: "(Pages 17 - 22)", "Appendix 1", "Agenda No. 8".
_LABEL_NUMBER = re.compile(
    r"\(pages?\s+\d+(\s*[-–]\s*\d+)?\)|\b(appendix|annex|section|table|figure|page|pages|"
    r"item|agenda|paragraph|para|no|priority|phase|level|tier|stage|step|q|quarter|part|"
    r"chapter|outcome|objective|option|recommendation|version)\.?\s+\d+(\.\d+)*\b",
    re.I,
)


def has_figure(sentence: str) -> bool:
    sentence = _LABEL_NUMBER.sub(" ", sentence)
    if _PERCENT.search(sentence):
        return True
    for match in _COUNT.finditer(sentence):
        number = match.group(1)
        if YEAR.fullmatch(number):
            continue
        before, after = sentence[: match.start()], sentence[match.end() :]
        if _MONTH_NEAR.search(before) or _MONTH_NEAR.match(after):
            continue
        if match.start() == 0 or sentence[: match.start()].strip() in {"(", ""}:
            continue  # a paragraph or list number leading the sentence
        return True
    return False


def place_kind(
    paragraph: str, quote: str, chunk_kind: str, section: str, lead_in: str
) -> PlaceKind:
    """The kind of a paragraph-level place.

    `chunk_kind` is the structure step's block kind, `section` the section path, and
    `lead_in` the text just before the paragraph (a list's introducing sentence or heading).
    """
    if chunk_kind == "recommendation" or _RECOMMENDATION.search(paragraph):
        return PlaceKind.RECOMMENDATION
    if chunk_kind == "resolution" or _DECISION.search(paragraph):
        return PlaceKind.DECISION
    if _REVIEW.search(quote):
        return PlaceKind.REVIEW
    is_item = bool(_LIST_ITEM.match(paragraph)) or chunk_kind in {"bullet", "numbered"}
    short = len(paragraph) < 400
    if _last_heading_names_priority(section) or (
        (is_item or short) and _PRIORITY_CONTEXT.search(lead_in)
    ):
        return PlaceKind.PRIORITY
    if _PRIORITY_CONTEXT.match(paragraph.strip()):
        return PlaceKind.PRIORITY
    if _ACTION_LEAD.match(paragraph) or (is_item and _ACTION.search(section.split(" > ")[-1])):
        return PlaceKind.ACTION
    if chunk_kind != "agenda_item" and has_figure(quote):
        return PlaceKind.FIGURE
    return PlaceKind.OTHER


def _last_heading_names_priority(section: str) -> bool:
    return bool(section) and bool(_PRIORITY_CONTEXT.search(section.split(" > ")[-1]))
