"""The question, read once: what it asks for and what it is about, made by `QuestionReader`
and passed to retrieval, the evidence check and the answerers.

A question is searched whole and, when it asks two things, part by part (`parts.py`); each
text searched carries its own acronym expansion, dates and key concepts. The whole question
also says whether it asks across the papers ("which documents …"), what kind of thing it asks
for (`asks.py`), and which specific terms (a day, a quarter, a year, a figure, an acronym) an
answer must hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.store.index import PaperIndex
from ingest.text.years import full_year_spans
from service.query.asks import AnswerKind, answer_kind
from service.query.dates import (
    DAY_OF_MONTH,
    QUARTER,
    YEAR_SPAN,
    DatesNamed,
    dates_named,
    day_of_month,
    names_day,
    names_quarter,
    quarter,
)
from service.query.key_terms import Concept, key_concepts_in
from service.query.parts import question_parts
from service.settings import Settings

# "Which documents …", "across the papers": the answer is a spread of places, not the five
# best paragraphs of one paper.
_SPECIFIC = re.compile(r"\b(?:(?:19|20)\d{2}|\d+(?:[.,]\d+)*%?|[A-Z]{2,}s?)\b")


@dataclass(frozen=True)
class SearchText:
    """One text searched for the question: the whole of it, or one part."""

    text: str
    expanded: str  # with the other form of each acronym or long form it uses
    dates: DatesNamed
    concepts: list[Concept]


@dataclass(frozen=True)
class Question:
    text: str
    searches: list[SearchText]  # the whole question first, then its parts when it has several
    asks_for: AnswerKind  # the kind of thing the answer must state
    specifics: list[str]  # days, quarters, years (a span as "2018/19"), figures, acronyms
    # each acronym's long form as the papers define it ("KCC": "Kent County Council")
    long_forms: dict[str, str] = field(default_factory=dict)

    def names(self, term: str, text: str) -> bool:
        """Whether `text` names one of the question's specific terms: an acronym counts as
        named where its long form is written out."""
        if mentions(term, text):
            return True
        long_form = self.long_forms.get(term)
        return long_form is not None and long_form.lower() in text.lower()

    @property
    def whole(self) -> SearchText:
        return self.searches[0]

    @property
    def concepts(self) -> list[Concept]:
        return self.whole.concepts

    @property
    def dates(self) -> DatesNamed:
        return self.whole.dates


def specific_terms(question: str) -> list[str]:
    """Days of a month ("13 March"), quarters ("Q3"), years (a span like 2018-19 as
    "2018/19"), figures and acronyms the question names."""
    question = full_year_spans(question)
    terms = [day_of_month(m) for m in DAY_OF_MONTH.finditer(question)]
    terms += [quarter(m) for m in QUARTER.finditer(question)]
    question = QUARTER.sub(" ", DAY_OF_MONTH.sub(" ", question))
    for start, end in YEAR_SPAN.findall(question):
        terms.append(f"{start}/{end[-2:]}")
    stripped = YEAR_SPAN.sub(" ", question)
    terms.extend(match.group(0) for match in _SPECIFIC.finditer(stripped))
    return terms


def mentions(term: str, text: str) -> bool:
    """Whether `text` names a specific term of the question (a year span in any of its
    written forms, an acronym with or without its plural s, a figure as a whole number)."""
    if DAY_OF_MONTH.fullmatch(term):
        return names_day(term, text)
    if QUARTER.fullmatch(term):
        return names_quarter(term, text)
    if "/" in term:  # a year span: 2018/19, 2018-19, 2018 – 2019, 18/19 all count
        start, end = term.split("/")
        pattern = rf"{start}\s*[-/–]\s*(?:20)?{end}\b"
        return re.search(pattern, full_year_spans(text)) is not None
    if term.isupper():
        return re.search(rf"\b{re.escape(term.rstrip('s'))}s?\b", text) is not None
    return re.search(rf"(?<![\d.]){re.escape(term)}(?![\d])", text) is not None


class QuestionReader:
    """Reads a question against the live papers: their glossary gives the acronym expansions
    and the keyword index how rare each key term is."""

    def __init__(self, index: PaperIndex, settings: Settings) -> None:
        self.index = index
        self.settings = settings

    def read(self, text: str) -> Question:
        text = text.strip()
        parts = question_parts(text) if text and self.settings.search_question_parts else [text]
        texts = [text, *parts] if len(parts) > 1 else [text]
        keyword_index = self.index.keyword_index() if text else None
        glossary = self.index.glossary() if text else None
        searches = [
            SearchText(
                each,
                self.expand(each),
                dates_named(each),
                key_concepts_in(each, keyword_index, glossary)
                if keyword_index and glossary
                else [],
            )
            for each in texts
        ]
        specifics = specific_terms(text)
        long_forms = dict(glossary.pairs_used(text)) if glossary else {}
        return Question(
            text=text,
            searches=searches,
            asks_for=answer_kind(text),
            specifics=specifics,
            long_forms={term: long_forms[term] for term in specifics if term in long_forms},
        )

    def expand(self, text: str) -> str:
        """The text with the other form of each acronym or long form it uses, as the papers
        define them ("OSAB" ↔ "Oxfordshire Safeguarding Adults Board")."""
        if not self.settings.expand_acronyms or not text:
            return text
        extra = self.index.glossary().expansions(text)
        return f"{text} ({'; '.join(extra)})" if extra else text
