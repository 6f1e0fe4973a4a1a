"""Financial and plan years written short ("23/24") read as written in full ("2023/24").

One council writes "2023/24", another "2023-24", a third "23/24": the keyword index, the
question's dates and the evidence check all read the short form through `full_year_spans`, so
each finds the others.
"""

from __future__ import annotations

import re

# Two two-digit years joined by "/" ("FY23/24" too), not part of a longer figure, date or
# word. Only the slash: "23-24" is as often a range of pages or paragraphs.
_SHORT_SPAN = re.compile(r"(?:(?<=FY)|(?<![\w/£$.,-]))(\d{2})/(\d{2})(?![\w/%]|[.,]\d)")
# The second year above this cannot be a month: "23/24" is no day and month, "11/12" may be.
_LAST_MONTH = 12


def full_year_spans(text: str) -> str:
    """The text with each short year span ("23/24", the second year the one after the
    first) written in full ("2023/24")."""

    def full(match: re.Match[str]) -> str:
        first, second = match.group(1), match.group(2)
        if int(second) != (int(first) + 1) % 100 or int(second) <= _LAST_MONTH:
            return match.group(0)
        century = "19" if int(first) >= 50 else "20"
        # "FY23/24" as "FY 2023/24": the year a word of its own, as in every other form
        after_fy = match.string[max(0, match.start() - 2) : match.start()] == "FY"
        return f"{' ' if after_fy else ''}{century}{first}/{second}"

    return _SHORT_SPAN.sub(full, text)
