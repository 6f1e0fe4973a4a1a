"""The text a request may carry: visible words.

A question of zero-width spaces or byte-order marks is blank, though `str.strip` keeps it; it is
refused before anything searches, stores or logs it. (Pydantic itself refuses a string with a
lone surrogate, which JSON allows but UTF-8 cannot carry; `create_app` returns that refusal with
the input escaped.)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Format characters (zero-width spaces and joiners, byte-order marks), controls and separators
# show nothing on the page.
_INVISIBLE = frozenset({"Cf", "Cc", "Zs", "Zl", "Zp"})


_SHORTER = {
    "question": "ask it in fewer words, one point at a time",
    "theme": "name it in a few words",
}


@dataclass(frozen=True)
class TextLimits:
    """The longest question and theme the API takes (`max_question_chars`,
    `max_theme_chars`): reading and answering cost CPU for every character."""

    question: int
    theme: int

    def overrun(self, what: str, text: str) -> str | None:
        """Why `text`, a "question" or "theme", is refused as too long; None when it is not."""
        limit = self.question if what == "question" else self.theme
        if len(text) <= limit:
            return None
        advice = _SHORTER[what]
        return (
            f"the {what} is {len(text):,} characters long, over the limit of {limit:,}: {advice}"
            f" (the limit is BOARDPAPERS_MAX_{what.upper()}_CHARS)"
        )


def readable(value: str, what: str) -> str:
    """`value` unchanged when it holds a visible character; otherwise a ValueError saying the
    `what` ("question", "query", "theme") is blank."""
    if all(unicodedata.category(char) in _INVISIBLE for char in value):
        raise ValueError(f"the {what} is blank: it holds no visible characters")
    return value
