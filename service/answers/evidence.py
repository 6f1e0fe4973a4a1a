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

from ingest.store.index import PaperIndex
from ingest.text.sentences import sentence_spans
from ingest.text.tokens import Tokenizer
from service.query.dates import YEAR as _YEAR
from service.query.dates import YEAR_SPAN as _YEAR_SPAN
from service.query.dates import DatesNamed
from service.query.key_terms import Concept, share_held
from service.query.question import Question
from service.retrieval.hits import Hit
from service.settings import Settings

_YEAR_TERM = re.compile(r"(?:19|20)\d{2}(?:/\d{2})?")  # as `specific_terms` writes years
# A figure: a number that is not just a year (years are checked separately).
_FIGURE = re.compile(r"(?<![\w.])(?:£\s?)?\d[\d,]*(?:\.\d+)?\s*(?:%|per cent|k\b|m\b)?")
# "Table 2", "Appendix 3", "paragraph 10": numbers that point somewhere rather than count;
# "per 100,000": a rate's base, not the figure asked for.
_REFERENCE = re.compile(
    r"\b(?:tables?|figures?|fig\.?|appendix|appendices|annex(?:es)?|pages?|p\.|paragraphs?|"
    r"paras?\.?|items?|sections?|chapters?|priority|priorities|objectives?|phase|tier|"
    r"level|step|stage|year|no\.?|number|per)\s+\d[\d.,]*k?\b",
    re.IGNORECASE,
)
# Share of the weight of the question's key concepts a figure's sentence (and its heading)
# must hold.
FIGURE_TERM_SHARE = 0.5
MAX_FIGURES_IN_PROSE = 3


@dataclass
class EvidenceCheck:
    supported: bool
    best_similarity: float
    term_coverage: float
    missing_specifics: list[str]
    figure_found: bool | None = None  # for "how many/much" questions: a sentence states it


def states_figure(sentence: str) -> bool:
    """Whether the sentence gives a number other than a year or a reference ("Table 2")."""
    without_years = _YEAR.sub(" ", _YEAR_SPAN.sub(" ", sentence))
    return bool(_FIGURE.search(_REFERENCE.sub(" ", without_years)))


def _mentions(term: str, text: str) -> bool:
    if "/" in term:  # a year span: 2018/19, 2018-19, 2018 – 2019 all count
        start, end = term.split("/")
        pattern = rf"{start}\s*[-/–]\s*(?:20)?{end}\b"
        return re.search(pattern, text) is not None
    if term.isupper():
        return re.search(rf"\b{re.escape(term.rstrip('s'))}s?\b", text) is not None
    return re.search(rf"(?<![\d.]){re.escape(term)}(?![\d])", text) is not None


def check_evidence(
    question: Question,
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
    key_terms = question.key_stems
    evidence_terms = set(tokenizer(evidence))
    coverage = len(key_terms & evidence_terms) / len(key_terms) if key_terms else 0.0
    specifics = question.specifics
    missing = [term for term in specifics if not _mentions(term, evidence)]
    supported = best >= min_similarity and coverage >= min_coverage and not missing
    figure_found = None
    if supported and question.asks_for_figure:
        figure_found = _figure_stated(question.concepts, specifics, question.dates, hits, tokenizer)
        supported = figure_found
    return EvidenceCheck(supported, round(best, 3), round(coverage, 3), missing, figure_found)


def _reads_as_prose(sentence: str) -> bool:
    """A sentence giving a few figures, not a table row run together: a row's columns may be
    for any year, so the paper's date cannot stand in for the year the question names."""
    return len(_FIGURE.findall(sentence)) <= MAX_FIGURES_IN_PROSE


def _figure_stated(
    concepts: list[Concept],
    specifics: list[str],
    named: DatesNamed,
    hits: list[Hit],
    tokenizer: Tokenizer,
) -> bool:
    """Whether one sentence states a figure about the question's subject: it holds a number,
    most of the weight of the question's key concepts (with its section heading), every
    figure or acronym the question names, and one of the years it names. The year may come
    from the paper's own date when the sentence and its heading name no year at all; a count
    given for another year is not an answer."""
    years = [term for term in specifics if _YEAR_TERM.fullmatch(term)]
    others = [term for term in specifics if term not in years]
    for hit in hits:
        section = hit.chunk.section
        dated_as_named = named.match(hit.chunk.meta.date if hit.chunk.meta else None) > 0
        for start, end in sentence_spans(hit.chunk.text):
            sentence = hit.chunk.text[start:end]
            if not states_figure(sentence):
                continue
            scope = f"{section}\n{sentence}"
            if share_held(concepts, set(tokenizer(scope))) < FIGURE_TERM_SHARE:
                continue
            if not all(_mentions(term, scope) for term in others):
                continue
            if not years or any(_mentions(term, scope) for term in years):
                return True
            if dated_as_named and not _YEAR.search(scope) and _reads_as_prose(sentence):
                return True
    return False


def check_evidence_with(
    question: Question, hits: list[Hit], index: PaperIndex, settings: Settings
) -> EvidenceCheck:
    """`check_evidence` with the live papers' tokenizer and the settings' thresholds."""
    return check_evidence(
        question,
        hits,
        index.keyword_index().tokenizer,
        min_similarity=settings.min_relevance,
        min_coverage=settings.min_term_coverage,
    )
