"""Answers: a question and its retrieved passages → an answer whose every statement is cited.

Two answerers share one result type: `ExtractiveAnswerer` (no LLM; the default) and
`LLMAnswerer` (a LangChain chat model). Both refuse, rather than guess, when the evidence
check in `evidence.py` finds the papers do not cover the question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ingest.models import Chunk
from service.query.question import Question
from service.retrieval.hits import Hit

NOT_COVERED = (
    "The papers I can search don't cover this: no passage answers the question. "
    "Try other words, or widen the filters."
)


@dataclass
class Citation:
    n: int
    quote: str  # verbatim from `chunk.text`
    chunk: Chunk
    page: int  # the page the quote is on
    page_end: int
    verified: bool = True


@dataclass
class AnswerResult:
    answer: str
    answered: bool
    mode: str  # "extractive" or "llm"
    citations: list[Citation] = field(default_factory=list)
    passages: list[Hit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # A list answer ("which papers mention …"): its entries, each with its [n] markers. The
    # `answer` text then holds the lead sentence and these as "- " lines under it.
    items: list[str] = field(default_factory=list)


class Answerer(Protocol):
    mode: str

    def answer(self, question: Question, hits: list[Hit]) -> AnswerResult: ...
