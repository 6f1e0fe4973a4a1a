"""The extractive answer on the real sample papers: what was asked comes first, a "which papers"
question is a list of papers, nothing cited is a heading, and the refusal rule's specifics."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MakeServices
from papers import markdown_folder

from ingest.pipeline import ingest_paths
from ingest.reading.structure import looks_like_heading
from service.answers.evidence import check_statements
from service.answers.scoring import StatementScorer
from service.answers.statements import statements_of
from service.container import Services
from service.query.asks import AnswerKind
from service.query.question import mentions, specific_terms
from service.retrieval.hits import Hit, chunk_hits
from service.settings import Settings


@pytest.mark.parametrize(
    ("question", "stated"),
    [
        # a person asked for: the line naming the chair, not "The Chair introduced everybody"
        ("Who chairs the Health and Wellbeing Board?", "Leffman"),
        # a count asked for: the sentence giving it, not one about the concerns
        ("How many safeguarding concerns were received in 2023/24?", "6581"),
        # a person (who wrote the report): the signature block's role line
        (
            "Who wrote the May 2016 Performance Scrutiny Committee report on the Safer "
            "Oxfordshire Partnership protocol?",
            "Head of Community Protection Services",
        ),
    ],
)
def test_the_first_statement_states_what_was_asked(
    corpus_services: Services, question: str, stated: str
) -> None:
    result = corpus_services.ask(question)
    assert result.answered, result.answer
    assert stated in result.citations[0].quote, [c.quote for c in result.citations]
    assert result.answer.startswith(" ".join(result.citations[0].quote.split())[:40])


def test_a_which_papers_question_lists_one_entry_per_paper(corpus_services: Services) -> None:
    question = "Which documents discuss Police and Crime Commissioner funding for community safety?"
    assert corpus_services.reader.read(question).asks_for is AnswerKind.PAPERS
    result = corpus_services.ask(question)
    papers = [c.chunk.doc_id for c in result.citations]
    assert len(result.items) == len(papers) >= 3
    assert len(set(papers)) == len(papers)
    lead, *entries = result.answer.split("\n- ")
    assert entries == result.items
    assert lead.startswith(f"{len(papers)} papers")
    for n, (item, citation) in enumerate(zip(result.items, result.citations, strict=True), 1):
        assert item.endswith(f"[{n}]")
        assert f"p. {citation.page}" in item


def test_no_heading_or_bare_lead_in_is_cited(corpus_services: Services) -> None:
    questions = [
        "What are the Safer Oxfordshire Partnership's priorities?",
        "What does the partnership protocol say about the Oversight Committee?",
        "Which priorities did the SOP set for 2017/18?",
    ]
    for question in questions:
        for citation in corpus_services.ask(question).citations:
            quote = citation.quote.strip()
            assert not looks_like_heading(quote), (question, quote)
            assert not quote.endswith(":"), (question, quote)


def test_every_statement_scored_comes_from_the_passages_verbatim(
    corpus_services: Services,
) -> None:
    index = corpus_services.index
    question = corpus_services.reader.read("How many frontline staff have received WRAP training?")
    hits = chunk_hits(corpus_services.passages(question, 6)[:6])
    candidates = statements_of(question, hits, index.keyword_index().tokenizer)
    statements = StatementScorer(index.embeddings).ranked(question, candidates)
    assert statements
    assert [s.score for s in statements] == sorted((s.score for s in statements), reverse=True)
    for statement in statements:
        assert statement.hit.chunk.text[statement.start : statement.end] == statement.text
    check = check_statements(question, statements, corpus_services.settings)
    assert check.supported
    assert check.best_similarity >= corpus_services.settings.min_relevance


def test_a_meeting_day_no_paper_names_is_refused(corpus_services: Services) -> None:
    # The key points are of the 5 July 2017 meeting; nothing is of 19 July 2017.
    named = corpus_services.ask("What did the SOP Coordination Group note on 5 July 2017?")
    unnamed = corpus_services.ask("What did the SOP Coordination Group note on 19 July 2017?")
    assert named.answered, named.answer
    assert not unnamed.answered, unnamed.answer


@pytest.mark.parametrize(("year", "supported"), [("2024/25", True), ("2023/24", False)])
def test_a_paper_speaks_of_the_financial_year_it_is_dated_in(
    corpus_services: Services, year: str, supported: bool
) -> None:
    # The OPCC's allocation, in the pack of 5 December 2024: its passage names no year.
    (chunk,) = [c for c in corpus_services.index.manifest.live_chunks() if "712,271" in c.text]
    assert not mentions("2024/25", chunk.context_text())
    question = corpus_services.reader.read(f"How much has the OPCC allocated for {year}?")
    tokenizer = corpus_services.index.keyword_index().tokenizer
    statements = statements_of(question, [Hit(chunk, 1.0, dense=0.9)], tokenizer)
    check = check_statements(question, statements, corpus_services.settings)
    assert check.supported is supported, check


def test_an_acronym_is_named_where_its_long_form_is_written_out(
    corpus_services: Services,
) -> None:
    """A question saying "OPCC" is answered by a passage writing the name out: the papers
    define one as the other."""
    glossary = corpus_services.index.glossary()
    chunks = corpus_services.index.manifest.live_chunks()
    tokenizer = corpus_services.index.keyword_index().tokenizer
    checked = 0
    for acronym, long_form in sorted(glossary.pairs.items()):
        spelled_out = [
            chunk
            for chunk in chunks
            if long_form.lower() in chunk.context_text().lower()
            and not mentions(acronym, chunk.context_text())
        ]
        if not spelled_out:
            continue
        question = corpus_services.reader.read(f"What does the {acronym} do?")
        if question.specifics != [acronym]:  # "MoU" is not written as a specific term
            continue
        statements = statements_of(question, [Hit(spelled_out[0], 1.0, dense=0.9)], tokenizer)
        check = check_statements(question, statements, corpus_services.settings)
        assert check.supported, (acronym, long_form, check)
        checked += 1
    assert checked >= 3


def test_a_year_written_short_answers_for_the_year_written_in_full(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    report = (
        "# Family support annual report\n\n"
        "In 23/24 the family support service supported 412 families across the county.\n\n"
        "In 22/23 the family support service supported 377 families across the county.\n"
    )
    papers = markdown_folder(tmp_path / "papers", {"family-support-annual-report.md": report})
    services = make_services(settings)
    assert ingest_paths([papers], services.index).ok
    result = services.ask("How many families did the family support service support in 2023/24?")
    assert result.answered, result.answer
    assert "412" in result.citations[0].quote
    # a question writing the year short is read as the year in full too
    short = services.ask("How many families did the family support service support in 22/23?")
    assert short.answered, short.answer
    assert "377" in short.citations[0].quote
    # and a year no paper names in any form is refused
    assert not services.ask("How many families did the service support in 2024/25?").answered


@pytest.mark.parametrize(
    ("question", "terms"),
    [
        ("What did Council decide on 13 March 2025?", ["13 March", "2025"]),
        ("What did Council decide on March 13th?", ["13 March"]),
        ("What was the overspend in the quarter 3 report for 2024/25?", ["Q3", "2024/25"]),
        ("How many homes in the second quarter?", ["Q2"]),
    ],
)
def test_days_and_quarters_are_specific_terms(question: str, terms: list[str]) -> None:
    assert specific_terms(question) == terms


@pytest.mark.parametrize(
    ("term", "text", "named"),
    [
        ("13 March", "was agreed by County Council on 13th March 2025", True),
        ("13 March", "at its meeting of March 13, the Council", True),
        ("13 March", "on 3 March 2025", False),
        ("Q2", "In Q2 there had been a total of 119", True),
        ("Q2", "in the second quarter of the year", True),
        ("Q3", "In Q2 there had been", False),
    ],
)
def test_a_day_or_quarter_is_named_in_any_written_form(term: str, text: str, named: bool) -> None:
    assert mentions(term, text) is named
