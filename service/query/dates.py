"""The dates a question names, and how well a paper's own date answers to them.

Officers point at a paper by its date as often as by its subject: "the July 2017 key points",
"the May 2016 scrutiny report", "the 2024/25 annual report". Retrieval uses this as a soft
prior for the papers dated then (a hard date range stays a filter the caller sets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "2017/18", "2017-2019", "2024–25": a span of years, as financial and plan years are written.
YEAR_SPAN = re.compile(r"\b((?:19|20)\d{2})\s*[-/–]\s*((?:19|20)?\d{2})\b")
YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_MONTH_YEAR = re.compile(
    r"\b(" + "|".join(_MONTHS) + r"|sept|" + "|".join(m[:3] for m in _MONTHS) + r")\.?\s+"
    r"((?:19|20)\d{2})\b",
    re.IGNORECASE,
)
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
    years: set[int] = set()
    for start, end in YEAR_SPAN.findall(text):
        first = int(start)
        last = int(end) if len(end) == 4 else first // 100 * 100 + int(end)
        if first <= last <= first + _LONGEST_SPAN_YEARS:
            years.update(range(first, last + 1))
    years.update(int(year) for year in YEAR.findall(YEAR_SPAN.sub(" ", text)))
    months: set[tuple[int, int]] = set()
    for month, year in _MONTH_YEAR.findall(text):
        months.add((int(year), _MONTHS.index(_month_name(month)) + 1))
        years.add(int(year))
    return DatesNamed(frozenset(years), frozenset(months))


def _month_name(word: str) -> str:
    word = word.lower()
    return next(name for name in _MONTHS if name.startswith(word[:3]))
