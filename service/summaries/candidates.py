"""Candidate sentences for a summary: the readable, substantive sentences of a paper.

A summary that quotes must quote whole sentences that read well on their own: no fragments cut
by a page break, no list run-ons, no contact details or meeting boilerplate (apologies,
declarations of interest, implications sections that say there are none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.models import Chunk
from ingest.reading.structure import unmarked_sentence_spans

MIN_CHARS = 60
MAX_CHARS = 360
_ENDS_WELL = re.compile(r"[.!?][\"'’”)]?$")
_BOILERPLATE = re.compile(
    r"apolog|declarations?\s+of\s+interest|declaring\s+interest|contact\s+officer|@|www\.|"
    r"https?:|\btel(?:ephone)?\b|intentionally\s+left\s+blank|please\s+(?:contact|note|click)|"
    r"webcast|live\s+stream|public\s+address|petitions?\b|date\s+of\s+(?:the\s+)?next\s+meeting|"
    r"\bsubstitut|background\s+papers|there\s+are\s+no\s+(?:\w+\s+){0,3}implications|"
    r"\bimplications\s+(?:arising|of\s+this)|\bN/A\b|the\s+chair\s+(?:welcomed|introduced|"
    r"invited|thanked|noted\s+that\s+there\s+had\s+been)|minutes\s+of\s+the\s+(?:last|previous)|"
    r"to\s+receive\s+(?:a|an|the)\s+(?:verbal\s+)?update|\bcomments\s+checked\s+by|"
    r"annex\s+\d+\s*:|appendix\s+\d+\s*:|special\s+requirements|code\s+of\s+conduct",
    re.IGNORECASE,
)
_FIGURE = re.compile(
    r"\d[\d,.]*\s*(?:%|per\s*cent)|£\s?\d|\b\d{1,3}(?:,\d{3})+\b|"
    r"\b\d+(?:\.\d+)?\s*(?:million|billion|bn)\b|"
    r"\b\d{2,}\s+(?:\w+\s+)?(?:people|cases|victims|survivors|children|adults|referrals|"
    r"incidents|offences|crimes|carers|households|families|residents|patients|young|deaths|"
    r"reviews|places|beds|staff|pupils|schools|homes)\b",
    re.IGNORECASE,
)


@dataclass
class Candidate:
    chunk: Chunk
    start: int  # span in chunk.text
    end: int
    text: str
    position: float  # 0 at the start of the paper, 1 at its end
    score: float = 0.0

    @property
    def figures(self) -> int:
        return len(_FIGURE.findall(self.text))


def candidates(chunks: list[Chunk]) -> list[Candidate]:
    total = max(1, len(chunks) - 1)
    found: list[Candidate] = []
    for chunk in chunks:
        text = chunk.text
        for start, end in unmarked_sentence_spans(text):
            sentence = text[start:end]
            if readable(sentence):
                found.append(Candidate(chunk, start, end, sentence, chunk.ordinal / total))
    return found


def readable(sentence: str) -> bool:
    """Whether a sentence can stand alone in a summary."""
    if not MIN_CHARS <= len(sentence) <= MAX_CHARS:
        return False
    if not (sentence[:1].isupper() or sentence[:1] in "“\"‘'") or not _ENDS_WELL.search(sentence):
        return False
    if sentence.count("(") != sentence.count(")") or sentence.count("“") != sentence.count("”"):
        return False
    if sentence.count(" - ") + sentence.count("•") + sentence.count(" – ") >= 2:
        return False  # a list run together into one line
    letters = sum(ch.isalpha() for ch in sentence)
    digits = sum(ch.isdigit() for ch in sentence)
    if letters < 0.6 * len(sentence) or digits > 0.15 * len(sentence):
        return False
    if len(sentence.split()) < 8:
        return False
    return not _BOILERPLATE.search(sentence)


def has_figure(sentence: str) -> bool:
    return bool(_FIGURE.search(sentence))
