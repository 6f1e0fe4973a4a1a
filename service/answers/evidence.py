"""The evidence check: do the retrieved passages support an answer at all?

Refusing is better than guessing. The rule, tuned on the development questions (never on
their answers): the best passage must be close in meaning to the question, enough of the
question's key terms must appear in the evidence, and every specific term the question names
— a year, a figure, an acronym — must appear in it, since a passage about 2017/18 does not
answer a question about 2018/19.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ingest.keyword_index import Tokenizer

from ..retrieval import Hit

# Words that say what kind of answer is wanted, not what it is about.
_QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how many much does do did is are was were "
    "according documents document papers paper report reports mention mentioned say said "
    "there any about across give list".split()
)  # fmt: skip
_YEAR_SPAN = re.compile(r"\b((?:19|20)\d{2})\s*[-/–]\s*((?:19|20)?\d{2})\b")
_SPECIFIC = re.compile(r"\b(?:(?:19|20)\d{2}|\d+(?:[.,]\d+)*%?|[A-Z]{2,}s?)\b")


@dataclass
class EvidenceCheck:
    supported: bool
    best_similarity: float
    term_coverage: float
    missing_specifics: list[str]


def specific_terms(question: str) -> list[str]:
    """Years (a span like 2018-19 as both years), figures and acronyms the question names."""
    terms: list[str] = []
    for start, end in _YEAR_SPAN.findall(question):
        terms.append(f"{start}/{end[-2:]}")
    stripped = _YEAR_SPAN.sub(" ", question)
    terms.extend(match.group(0) for match in _SPECIFIC.finditer(stripped))
    return terms


def _mentions(term: str, text: str) -> bool:
    if "/" in term:  # a year span: 2018/19, 2018-19, 2018 – 2019 all count
        start, end = term.split("/")
        pattern = rf"{start}\s*[-/–]\s*(?:20)?{end}\b"
        return re.search(pattern, text) is not None
    if term.isupper():
        return re.search(rf"\b{re.escape(term.rstrip('s'))}s?\b", text) is not None
    return re.search(rf"(?<![\d.]){re.escape(term)}(?![\d])", text) is not None


def check_evidence(
    question: str,
    hits: list[Hit],
    tokenizer: Tokenizer,
    *,
    min_similarity: float,
    min_coverage: float,
) -> EvidenceCheck:
    if not hits:
        return EvidenceCheck(False, 0.0, 0.0, [])
    best = max((hit.dense or 0.0) for hit in hits)
    evidence = "\n".join(hit.chunk.context_text() for hit in hits)
    key_terms = {t for t in tokenizer(question) if t not in _question_stems()}
    evidence_terms = set(tokenizer(evidence))
    coverage = len(key_terms & evidence_terms) / len(key_terms) if key_terms else 0.0
    missing = [term for term in specific_terms(question) if not _mentions(term, evidence)]
    supported = best >= min_similarity and coverage >= min_coverage and not missing
    return EvidenceCheck(supported, round(best, 3), round(coverage, 3), missing)


@cache
def _question_stems() -> frozenset[str]:
    return frozenset(Tokenizer()(" ".join(_QUESTION_WORDS)))
