"""Month names as papers and questions write them: in full or cut short ("March", "Mar",
"Sept"). The one pattern for a month's name (match it with re.IGNORECASE), shared by reading
a paper's front sheet and reading the dates a question names."""

from __future__ import annotations

MONTH_NAMES = (
    "january february march april may june july august september october november december"
).split()
# Full names first, so "september" is not read as "sep" followed by "tember".
MONTH_WORD = (
    r"(?:" + "|".join(MONTH_NAMES) + r"|sept|" + "|".join(m[:3] for m in MONTH_NAMES) + r")"
)


def month_name(word: str) -> str:
    """The full, lower-case name of a month written in full or cut short."""
    word = word.lower()
    return next(name for name in MONTH_NAMES if name.startswith(word[:3]))


def month_number(word: str) -> int:
    """1 for "January", "Jan" or "jan", … 12 for "Dec"."""
    return MONTH_NAMES.index(month_name(word)) + 1
