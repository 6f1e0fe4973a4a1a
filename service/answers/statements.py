"""Candidate statements for an extractive answer, and what each says about the question.

A statement is a sentence (or a list item) of a retrieved chunk, cut by character span so its
quote is verbatim. Each carries the signals the answerer weighs to pick the one that states
what was asked: how close its meaning is to the question, how much of the question's key
terms it (and its section heading) holds, whether it states the asked-for kind of thing (a
person, a date, a figure, a decision …), and how close its passage is to the question.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ingest.reading.structure import looks_like_heading, unmarked_sentence_spans
from ingest.text.tokens import Tokenizer
from service.query.asks import AnswerKind, states
from service.query.key_terms import share_held
from service.query.question import Question
from service.retrieval.hits import Hit

MIN_STATEMENT_CHARS = 12
# Fewer words than this is a label or a fragment ("Scrutiny Committee"), not a statement.
MIN_STATEMENT_WORDS = 4
# Longer than this is a table or a contents list run together, not a statement.
MAX_STATEMENT_WORDS = 90
# A list run together after its lead-in ("Our priorities for 2017/18 are to: Support …") is
# one statement, and the answer to "which priorities …": it may run this long.
MAX_LIST_WORDS = 130
LEAD_IN_SHARE = 0.4  # the colon ending a lead-in falls in this first share of the words


@dataclass
class Statement:
    hit: Hit
    start: int  # span in hit.chunk.text
    end: int
    text: str
    signals: dict[str, float]
    score: float = 0.0


# A sentence opening with one of these points back at the one before ("This represents 0.23%
# of the total loans awarded"): quoted alone it does not say what it is about.
_POINTS_BACK = re.compile(r"(?:This|These|That|Those|It|Its|They|Their|Such|Both)\b")


def candidate_spans(text: str) -> list[tuple[int, int]]:
    """Sentence and list-item spans of a chunk's text, list marks left out; a sentence that
    points back at the one before it in its paragraph is quoted with it."""
    spans: list[tuple[int, int]] = []
    for start, end in unmarked_sentence_spans(text):
        if end - start < MIN_STATEMENT_CHARS:
            continue
        if spans and _POINTS_BACK.match(text, start):
            before, _ = spans[-1]
            same_paragraph = "\n\n" not in text[before:start]
            if same_paragraph and len(text[before:end].split()) <= MAX_STATEMENT_WORDS:
                start = before
        spans.append((start, end))
    return spans


def statements_of(question: Question, hits: list[Hit], tokenizer: Tokenizer) -> list[Statement]:
    """Every candidate statement of the chunks, with its signals (meaning is added by the
    scorer, which embeds them in one batch)."""
    kind = question.asks_for
    out: list[Statement] = []
    for hit in hits:
        chunk = hit.chunk
        section_stems = set(tokenizer(chunk.section)) if chunk.section else set()
        dated = question.dates.match(chunk.meta.date if chunk.meta else None)
        for start, end in candidate_spans(chunk.text):
            text = chunk.text[start:end]
            words = text.split()
            if not reads_as_statement(text, words):
                continue
            stems = set(tokenizer(text))
            signals = {
                "terms": share_held(question.concepts, stems),
                "terms_in_context": share_held(question.concepts, stems | section_stems),
                "kind": float(kind in _SPECIFIC_KINDS and states(kind, text)),
                "passage_meaning": hit.dense or 0.0,
                "dated": dated,
                "length": math.log(len(words)),
            }
            out.append(Statement(hit, start, end, text, signals))
    return out


def reads_as_statement(text: str, words: list[str]) -> bool:
    """Not a heading, a label, a lead-in left without its list ("The criteria are:") or a
    table run together: a heading is never cited as if it said something."""
    lead_in = words[: max(1, int(len(words) * LEAD_IN_SHARE))]
    longest = MAX_LIST_WORDS if any(w.endswith(":") for w in lead_in) else MAX_STATEMENT_WORDS
    if not MIN_STATEMENT_WORDS <= len(words) <= longest:
        return False
    # a question in the papers (a consultation's or an FAQ's) asks, it does not answer
    return not (looks_like_heading(text) or text.rstrip().endswith((":", "?")))


_SPECIFIC_KINDS = frozenset(set(AnswerKind) - {AnswerKind.OTHER, AnswerKind.PAPERS})
