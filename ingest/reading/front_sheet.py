"""What a paper says about itself on its first page: its title, the body it goes to, the
meeting's date and whether it is minutes or an agenda.

Council papers open with a front sheet in one of a few shapes that every English council
uses: labelled fields ("To: Cabinet – 30 January 2025", "Subject: …", "Date: 2nd February
2015", "Title of Report: …"), a minutes opening ("MINUTES of a meeting of the County Council
held … on Thursday, 19 December 2024"), a meeting notice ("Notice of a Meeting of the … Board
Thursday, 5 December 2024") or a heading naming a meeting and its day ("PERFORMANCE SCRUTINY
COMMITTEE - 12 MAY 2016"). Where none of these is there, a date anywhere in the file name
("CPP Minutes 29.10.24", "Printed minutes 13th-Feb-2025") still dates the paper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ingest.text.months import MONTH_WORD, month_number

# "19 December 2024", "2nd February 2015", "2ndFebruary 2015", "13th-Feb-2025", "5 Dec. 2024"
_DAY_MONTH_YEAR = re.compile(
    rf"\b(?P<d>[0-3]?\d)(?:st|nd|rd|th)?[\s\-]*(?P<m>{MONTH_WORD})\.?[\s\-,]*(?P<y>(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
# "29.10.24", "29/10/2024", "05-12-2024": day first, as in the UK
_NUMERIC = re.compile(r"\b(?P<d>[0-3]?\d)[./-](?P<m>[01]?\d)[./-](?P<y>(?:19|20)?\d\d)\b")
_ISO = re.compile(r"\b(?P<y>(?:19|20)\d\d)-(?P<m>[01]\d)(?:-(?P<d>[0-3]\d))?\b")
# "March 2025", "February 2025": a month named without its day
_MONTH_YEAR = re.compile(rf"\b(?P<m>{MONTH_WORD})\.?[\s\-,]+(?P<y>(?:19|20)\d\d)\b", re.IGNORECASE)

# "To: Members of the … Board": the board is the body
_ADDRESSEES = re.compile(r"^(?:all\s+)?members\s+of\s+(?:the\s+)?", re.IGNORECASE)
# "MINUTES of the meeting held …", "Minutes of a meeting of …"
_MINUTES_OPENING = re.compile(r"^minutes\s+of\s+(?:a|the)\s+meeting\b", re.IGNORECASE)
# A front sheet's labelled field: "Subject:", "To:", "Date of meeting:", "Title of Report:"
_FIELD = re.compile(r"^\s*(?P<label>[A-Za-z][A-Za-z ]{0,24}?)\s*:\s*(?P<value>.*)$")
_TITLE_LABELS = {"subject", "title", "title of report", "report title", "report", "item"}
_BODY_LABELS = {"to", "report to", "meeting", "committee", "decision maker", "meeting of"}
_DATE_LABELS = {"date", "date of meeting", "meeting date", "date of decision"}
# "MINUTES of a meeting of the County Council held …", "Notice of a Meeting of the … Board"
_MEETING_OF = re.compile(
    r"\b(?P<kind>minutes|notice)\s+of\s+(?:a|the)\s+meeting\s+of\s+(?:the\s+)?(?P<body>.+?)"
    r"(?:\s+held\b|\s+on\b|\s*[,.(]|$)",
    re.IGNORECASE,
)
# A body ends in one of these words: "County Council", "Cabinet", "Corporate Parenting Panel"
_BODY_WORDS = (
    r"council|cabinet|committee|board|panel|partnership|group|forum|executive|commission|"
    r"assembly|authority|trust|sub-committee"
)
_BODY_AT_END = re.compile(rf"^(?P<body>[A-Za-z&'’ ,-]*?\b(?:{_BODY_WORDS}))\b", re.IGNORECASE)
# First-page lines read: a front sheet's fields sit at its top.
FRONT_LINES = 30
# More words than this is a sentence, not a title.
MAX_TITLE_WORDS = 25


@dataclass(frozen=True)
class FrontSheet:
    title: str | None = None
    body: str | None = None
    date: str | None = None  # ISO
    doc_type: str | None = None


def read_front_sheet(first_page: str) -> FrontSheet:
    """What the first page's top says, field by field; None for what it does not say."""
    lines = [" ".join(line.split()) for line in first_page.splitlines() if line.strip()]
    lines = lines[:FRONT_LINES]
    title = body = when = doc_type = None
    for i, line in enumerate(lines):
        field = _FIELD.match(line)
        if field:
            label = field["label"].strip().lower()
            value = _with_continuation(field["value"], lines[i + 1 :])
            if label in _TITLE_LABELS and title is None and value:
                title = value
            elif label in _BODY_LABELS and body is None and value:
                body = _body_in(value)
                when = when or first_date(value)
            elif label in _DATE_LABELS and when is None:
                when = first_date(value)
            continue
        if _MINUTES_OPENING.match(line):
            doc_type = doc_type or "minutes"
        meeting = _MEETING_OF.search(line)
        if meeting:
            body = body or _body_in(meeting["body"])
            if meeting["kind"].lower() == "minutes":
                doc_type = doc_type or "minutes"
            # the meeting's day is on this line or the next two
            when = when or first_date(" ".join(lines[i : i + 3]))
            continue
        named = _meeting_heading(line)
        if named and body is None:
            body, when = named[0], when or named[1]
    return FrontSheet(title=title, body=body, date=when, doc_type=doc_type)


def _with_continuation(value: str, following: list[str]) -> str:
    """A field's value with the lines that carry it on (a long subject wraps over two), up
    to the next field; "" when it runs on like a sentence rather than a title."""
    parts = [value.strip()] if value.strip() else []
    if not parts and following and not _FIELD.match(following[0]):
        # "Subject:" alone on its line, its value on the next
        parts, following = [following[0]], following[1:]
    for i, line in enumerate(following[:2]):
        if _FIELD.match(line):
            break
        if not _carries_on(parts[-1], line, following[i + 1 : i + 2]):
            break
        parts.append(line)
    text = " ".join(parts).strip(" –-")
    return _title_case(text) if len(text.split()) <= MAX_TITLE_WORDS else ""


def _carries_on(previous: str, line: str, after: list[str]) -> bool:
    """Whether `line` goes on with the value on `previous`: after a dash or a joining word,
    from a lower-case letter or a bracket, or a short end of the same case before the next
    field ("… 2025-28 Medium Term" / "Financial Plan (MTFP)" / "Classification: …")."""
    if previous.endswith(_JOINING) or line[:1].islower() or line.startswith("("):
        return True
    short_end = len(line.split()) <= 3 and bool(after) and bool(_FIELD.match(after[0]))
    return short_end and previous.isupper() == line.isupper()


_JOINING = ("–", "-", " and", " of", " the", " for", " to", " in", ",", "&")


def _body_in(text: str) -> str | None:
    """The body a field or opening names: "Cabinet – 30 January 2025" → "Cabinet"."""
    name = re.split(r"\s[–-]\s|\s[–-]|[–-]\s|,|:|\(", text, maxsplit=1)[0].strip()
    name = _DAY_MONTH_YEAR.sub("", name).strip()
    name = _ADDRESSEES.sub("", name)
    match = _BODY_AT_END.match(name)
    if not match:
        return None
    return _title_case(match["body"].strip(" ,-"))


def _meeting_heading(line: str) -> tuple[str, str] | None:
    """A heading naming a meeting and its day: "CORPORATE PARENTING PANEL– 29 October 2024"."""
    found = _DAY_MONTH_YEAR.search(line)
    if not found or found.start() == 0:
        return None
    body = _body_in(line[: found.start()])
    iso = _iso(found)
    return (body, iso) if body and iso else None


def first_date(text: str) -> str | None:
    """The first full date written in `text`, as ISO; a month and year alone give its 1st."""
    for pattern in (_DAY_MONTH_YEAR, _ISO, _NUMERIC):
        found = pattern.search(text)
        if found:
            iso = _iso(found)
            if iso:
                return iso
    found = _MONTH_YEAR.search(text)
    return _iso(found) if found else None


def date_in_name(stem: str) -> str | None:
    """A date anywhere in a file's name: "2024-12-05_board", "CPP Minutes 29.10.24",
    "Printed minutes 13th-Feb-2025", "Cabinet Report 4 March 2025", "2017-06_sop"."""
    return first_date(stem.replace("_", " "))


def _iso(found: re.Match[str]) -> str | None:
    groups = found.groupdict()
    month_text = groups["m"]
    month = int(month_text) if month_text.isdigit() else month_number(month_text)
    year = int(groups["y"])
    if year < 100:
        year += 2000
    day = int(groups.get("d") or 1)
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _title_case(text: str) -> str:
    """A name as written in running text: "COUNTY COUNCIL" → "County Council"; a name already
    in mixed case is left as it is."""
    return text.title() if text.isupper() else text
