"""The text a request may carry: visible words.

A question of zero-width spaces or byte-order marks is blank, though `str.strip` keeps it; it is
refused before anything searches, stores or logs it. (Pydantic itself refuses a string with a
lone surrogate, which JSON allows but UTF-8 cannot carry; `create_app` returns that refusal with
the input escaped.)
"""

from __future__ import annotations

import unicodedata

# Format characters (zero-width spaces and joiners, byte-order marks), controls and separators
# show nothing on the page.
_INVISIBLE = frozenset({"Cf", "Cc", "Zs", "Zl", "Zp"})


def readable(value: str, what: str) -> str:
    """`value` unchanged when it holds a visible character; otherwise a ValueError saying the
    `what` ("question", "query", "theme") is blank."""
    if all(unicodedata.category(char) in _INVISIBLE for char in value):
        raise ValueError(f"the {what} is blank: it holds no visible characters")
    return value
