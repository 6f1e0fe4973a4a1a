"""The parts of a question that asks two things at once.

"Who chaired the Safer Oxfordshire Partnership in June 2017, and who chairs its Coordination
Group according to the 2024/25 annual report?" asks for two passages, often in two papers of
different years. Searched whole, the part whose words are more common in the papers takes
every place. Retrieval also searches each part on its own (with its own dates), so each part
brings its own passages.

A second question is one joined by a comma and "and" to a question word (", and who …"), or
one after a question mark. "The link between poverty and how children do" is one question.

A part that points back with "its", naming nothing before it, gets the name it points at: the
longest name of several capitalised words in the nearest part before it that has one ("…
Safer Oxfordshire Partnership …, and who chairs its Coordination Group" → "who chairs Safer
Oxfordshire Partnership's Coordination Group"). Alone, "its Coordination Group" could be
anyone's.
"""

from __future__ import annotations

import re

# ", and who …", ", and what …": a second question joined to the first.
_JOINED_QUESTION = re.compile(
    r",\s+and\s+(?=(?:who|whom|whose|what|which|where|when|why|how)\b)", re.IGNORECASE
)
# "… in 2023/24? How many …": two questions in one message.
_NEXT_QUESTION = re.compile(r"\?\s+(?=\w)")
_LEADING_AND = re.compile(r"^and\s+", re.IGNORECASE)
# A part this short ("… and where?", "… and why?") adds no terms of its own.
MIN_PART_WORDS = 3
# More parts than this is a list, not questions asked together: it is searched whole (each
# part would be a search of its own).
MAX_PARTS = 3
# A name of two or more capitalised words, with the small words names carry between them.
_NAME = re.compile(r"\b[A-Z][\w'’&/-]*(?:\s+(?:(?:of|and|for|the|&)\s+)?[A-Z][\w'’&/-]*)+")
_CAPITALISED = re.compile(r"\b[A-Z]")
_ITS = re.compile(r"\bits\b", re.IGNORECASE)


def question_parts(question: str) -> list[str]:
    """The questions `question` asks, each able to stand alone; one part when it asks one."""
    parts = [
        _LEADING_AND.sub("", part.strip(" ?"))
        for asked in _NEXT_QUESTION.split(question.strip())
        for part in _JOINED_QUESTION.split(asked)
    ]
    parts = [part for part in parts if len(part.split()) >= MIN_PART_WORDS]
    if not 2 <= len(parts) <= MAX_PARTS:
        return [question.strip()]
    return [parts[0], *(_named(part, parts[:index]) for index, part in enumerate(parts) if index)]


def _named(part: str, before: list[str]) -> str:
    """`part` with "its" replaced by the longest name in the nearest part before it that has
    one, unless the part names something before "its" ("what did Healthwatch say about its
    budget")."""
    pointing = _ITS.search(part)
    if pointing is None or _CAPITALISED.search(_without_opening_word(part[: pointing.start()])):
        return part
    names = next(
        (
            found
            for earlier in reversed(before)
            if (found := _NAME.findall(_without_opening_word(earlier)))
        ),
        [],
    )
    if not names:
        return part
    name = max(names, key=len)
    possessive = f"{name}'" if name.endswith("s") else f"{name}'s"
    return _ITS.sub(lambda _: possessive, part)


def _without_opening_word(text: str) -> str:
    # "Who chaired …": the question word is capitalised only for opening the sentence
    return text.split(maxsplit=1)[1] if len(text.split()) > 1 else ""
