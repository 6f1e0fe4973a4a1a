"""The parts of a question that asks two things at once.

"Who chaired the Safer Oxfordshire Partnership in June 2017, and who chairs its Coordination
Group according to the 2024/25 annual report?" asks for two passages, often in two papers of
different years. Searched whole, the part whose words are more common in the papers takes
every place. Retrieval also searches each part on its own (with its own dates), so each part
brings its own passages.

A part that points back with "its" or "their" gets the name it points at: the longest name
of several capitalised words in the first part ("… Safer Oxfordshire Partnership …, and who
chairs its Coordination Group" → "who chairs Safer Oxfordshire Partnership's Coordination
Group"). Alone, "its Coordination Group" could be anyone's.
"""

from __future__ import annotations

import re

# ", and who …", " and what …": a second question joined to the first.
_JOINED_QUESTION = re.compile(
    r",?\s+and\s+(?=(?:who|whom|whose|what|which|where|when|why|how)\b)", re.IGNORECASE
)
# "… in 2023/24? How many …": two questions in one message.
_NEXT_QUESTION = re.compile(r"\?\s+(?=[A-Z])")
# A part this short ("… and where?", "… and why?") adds no terms of its own.
MIN_PART_WORDS = 3
# A name of two or more capitalised words, with the small words names carry between them.
_NAME = re.compile(r"\b[A-Z][\w'’&/-]*(?:\s+(?:(?:of|and|for|the|&)\s+)?[A-Z][\w'’&/-]*)+")
_POINTING_BACK = re.compile(r"\b(?:its|their)\b", re.IGNORECASE)


def question_parts(question: str) -> list[str]:
    """The questions `question` asks, each able to stand alone; one part when it asks one."""
    parts = [
        part.strip(" ?")
        for joined in _NEXT_QUESTION.split(question.strip())
        for part in _JOINED_QUESTION.split(joined)
    ]
    parts = [part for part in parts if len(part.split()) >= MIN_PART_WORDS]
    if len(parts) < 2:
        return [question.strip()]
    return [parts[0], *(_named(part, parts[0]) for part in parts[1:])]


def _named(part: str, first: str) -> str:
    """`part` with "its"/"their" replaced by the longest name in the first part."""
    names = _NAME.findall(_without_opening_word(first))
    if not names:
        return part
    name = max(names, key=len)
    return _POINTING_BACK.sub(f"{name}'s", part)


def _without_opening_word(text: str) -> str:
    # "Who chaired …": the question word is capitalised only for opening the sentence
    return text.split(maxsplit=1)[1] if len(text.split()) > 1 else ""
