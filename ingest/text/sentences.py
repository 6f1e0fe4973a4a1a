"""Sentence spans in running text, for splitting long paragraphs and for quoting.

Returns character spans into the original string, so a quote cut from them is verbatim.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "cllr", "dr", "mr", "mrs", "ms", "prof", "no", "nos", "vs", "approx",
    "para", "paras", "st", "co", "ltd", "inc", "dept", "fig", "vol", "pp", "p", "cf", "al",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
}  # fmt: skip
# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before a space and
# a capital, digit, quote, bullet or bracket; or at a bullet mark in the middle of a line.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'’”)\]]*\s+(?=[A-Z0-9“\"'‘(•])|\s+(?=•\s)|\n+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in `text`, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start()
        candidate = text[start:end]
        if _ends_with_abbreviation(candidate) or _is_list_number(candidate):
            continue
        spans.append((start, end))
        start = match.end()
    spans.append((start, len(text)))
    return [_trim(text, s, e) for s, e in spans if text[s:e].strip()]


def split_sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def _ends_with_abbreviation(candidate: str) -> bool:
    match = re.search(r"(\b[\w.]+)\.[\"'’”)\]]*$", candidate)
    if not match:
        return False
    word = match.group(1).lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _is_list_number(candidate: str) -> bool:
    # "12." or "3.2." alone is a paragraph number, not a sentence.
    return bool(re.fullmatch(r"\s*(\d{1,3}(\.\d{1,3})*\.|\([a-z0-9]{1,4}\)|[a-z]\))\s*", candidate))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
