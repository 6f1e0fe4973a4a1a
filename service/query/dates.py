"""The dates a question names, and how well a paper's own date answers to them.

Officers point at a paper by its date as often as by its subject: "the July 2017 key points",
"the May 2016 scrutiny report", "the 2024/25 annual report". Retrieval uses this as a soft
prior for the papers dated then (a hard date range stays a filter the caller sets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.text.months import MONTH_WORD, month_name, month_number
from ingest.text.years import full_year_spans

# "2017/18", "2017-2019", "2024–25": a span of years, as financial and plan years are written.
YEAR_SPAN = re.compile(r"\b((?:19|20)\d{2})\s*[-/–]\s*((?:19|20)?\d{2})\b")
YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_MONTH_YEAR = re.compile(rf"\b({MONTH_WORD})\.?\s+((?:19|20)\d{{2}})\b", re.IGNORECASE)
# "13 March", "13th March 2025", "March 13": a day of a month, named by a question about one
# meeting or deadline.
DAY_OF_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({MONTH_WORD})\b|\b({MONTH_WORD})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b",
    re.IGNORECASE,
)
# "quarter 3", "Q3", "the third quarter": a reporting quarter.
QUARTER = re.compile(
    r"\b(?:q([1-4])|quarter ([1-4])|(first|second|third|fourth) quarter)\b", re.IGNORECASE
)
_ORDINALS = ("first", "second", "third", "fourth")
# A span longer than this is a period of history, not the year a paper is about.
_LONGEST_SPAN_YEARS = 5
# How much a paper's date answers the question: its month and year named, or only its year.
MONTH_MATCH = 1.0
YEAR_MATCH = 0.5


@dataclass(frozen=True)
class DatesNamed:
    years: frozenset[int]
    months: frozenset[tuple[int, int]]  # (year, month)

    def __bool__(self) -> bool:
        return bool(self.years or self.months)

    def match(self, iso_date: str | None) -> float:
        """MONTH_MATCH when the question names the paper's month and year, YEAR_MATCH when it
        names only its year, otherwise 0."""
        if not iso_date or len(iso_date) < 7 or not iso_date[:4].isdigit():
            return 0.0
        year, month = int(iso_date[:4]), int(iso_date[5:7])
        if (year, month) in self.months:
            return MONTH_MATCH
        return YEAR_MATCH if year in self.years else 0.0


def dates_named(text: str) -> DatesNamed:
    text = full_year_spans(text)
    years: set[int] = set()
    for start, end in YEAR_SPAN.findall(text):
        first = int(start)
        last = int(end) if len(end) == 4 else first // 100 * 100 + int(end)
        if first <= last <= first + _LONGEST_SPAN_YEARS:
            years.update(range(first, last + 1))
    years.update(int(year) for year in YEAR.findall(YEAR_SPAN.sub(" ", text)))
    months: set[tuple[int, int]] = set()
    for month, year in _MONTH_YEAR.findall(text):
        months.add((int(year), month_number(month)))
        years.add(int(year))
    return DatesNamed(frozenset(years), frozenset(months))


def day_of_month(match: re.Match[str]) -> str:
    """A `DAY_OF_MONTH` match as "13 March"."""
    day = match.group(1) or match.group(4)
    month = match.group(2) or match.group(3)
    return f"{int(day)} {month_name(month).capitalize()}"


def quarter(match: re.Match[str]) -> str:
    """A `QUARTER` match as "Q3"."""
    number = match.group(1) or match.group(2) or str(_ORDINALS.index(match.group(3).lower()) + 1)
    return f"Q{number}"


def names_day(term: str, text: str) -> bool:
    """Whether `text` names the day of month `term` ("13 March") in any written form."""
    return any(day_of_month(m) == term for m in DAY_OF_MONTH.finditer(text))


def names_quarter(term: str, text: str) -> bool:
    """Whether `text` names the quarter `term` ("Q3") in any written form."""
    return any(quarter(m) == term for m in QUARTER.finditer(text))
