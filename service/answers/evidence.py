"""The evidence check: do the retrieved passages answer the question at all?

Refusing is better than guessing. One rule for both answerers, from signals that hold for any
council's papers: the closest passage must be close in meaning to the question (a question the
papers are not about — parking charges, a football result — finds nothing near), and every
specific term the question names — a day, a quarter, a year, a figure, an acronym — must appear
in the evidence (or be its paper's date, or the financial year that date is in), since a
passage about 2017/18 does not answer a question about 2018/19, nor a report before a meeting
what it decided.

Measured and dropped (`python -m bench.answers --ablations`; figures in the README): a floor on
the best statement's score, and requiring a statement that states the asked-for kind with the
question's key terms. On both development sets the unanswerable questions are near misses —
the papers discuss their subject but not the fact asked — and score as high as answerable ones;
both rules refused answerable questions faster than unanswerable ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from service.answers.statements import Statement
from service.query.question import Question
from service.settings import Settings


@dataclass
class EvidenceCheck:
    supported: bool
    best_similarity: float  # the closest passage's cosine similarity to the question
    missing_specifics: list[str] = field(default_factory=list)


def _written(iso_date: str | None) -> str:
    """A paper's date as its text would name it, with the financial year (April to March) it
    falls in: a paper of December 2024 speaks of 2024/25 without saying so."""
    if not iso_date:
        return ""
    try:
        day = date.fromisoformat(iso_date)
    except ValueError:
        return ""
    first = day.year if day.month >= 4 else day.year - 1
    return f"{day:%d %B %Y} {first}/{(first + 1) % 100:02d}"


def check_statements(
    question: Question, statements: list[Statement], settings: Settings
) -> EvidenceCheck:
    """Whether the passages the candidate statements come from (in any order, scored or not)
    answer the question."""
    if not statements:
        return EvidenceCheck(False, 0.0)
    best = max(s.signals["passage_meaning"] for s in statements)
    chunks = {id(s.hit.chunk): s.hit.chunk for s in statements}.values()
    # A paper's own date names its meeting's day as well as its text does.
    evidence = "\n".join(f"{_written(c.meta.date)}\n{c.context_text()}" for c in chunks)
    missing = [term for term in question.specifics if not question.names(term, evidence)]
    supported = best >= settings.min_relevance and not missing
    return EvidenceCheck(supported, round(best, 3), missing)
