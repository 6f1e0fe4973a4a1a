"""Every quote `/ask` returns is really on the page it cites, checked against the PDF itself.

The check is independent of the service: pypdf reads the corpus file, and the normaliser here
forgives only what text extraction varies (line breaks, runs of spaces, hyphens that split a
word at a line end, curly quote marks). A changed word or a wrong page fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from conftest import CORPUS
from fastapi.testclient import TestClient
from pypdf import PdfReader

from service.api.app import create_app
from service.container import Services
from service.settings import Settings

REPORT_2015 = "2015-02-02-oxford-city-council-safer-communities-partnership-report"
PROTOCOL = "2016-05-12-performance-scrutiny-committee-sop-partnership-protocol"
AGREEMENT = "2017-06-sop-community-safety-agreement-2017-18"
KEY_POINTS = "2017-07-05-sop-coordination-group-key-points"
AGENDA_PACK = "2024-12-05-oxfordshire-health-wellbeing-board-agenda-pack"

# (question, document that states the fact, words of the fact) — read from corpus/source.
QUESTIONS = [
    (
        "How long is the domestic abuse perpetrator programme that Making Changes runs in Oxford?",
        REPORT_2015,
        "27 week",
    ),
    (
        "By how much was burglary of people's homes in Oxford projected to fall?",
        REPORT_2015,
        "24%",
    ),
    (
        "How many sexual offences have been recorded in Oxford so far this year?",
        REPORT_2015,
        "56",
    ),
    (
        "Which boards does the working protocol set out the relationship between?",
        PROTOCOL,
        "Childrens Trust",
    ),
    (
        "How many victims of child sexual exploitation did Thames Valley Police record in "
        "Oxfordshire in 2016?",
        AGREEMENT,
        "169 victims",
    ),
    ("How many frontline staff have received WRAP training on Prevent?", AGREEMENT, "320"),
    ("Who is the new community safety portfolio holder for Oxford City?", KEY_POINTS, "Tom Hayes"),
    ("How many safeguarding concerns were received in 2023/24?", AGENDA_PACK, "6581"),
    ("What is the child population of Oxfordshire?", AGENDA_PACK, "152,205"),
]

_STRAIGHT = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_LINE_END_HYPHEN = re.compile(r"-[ \t]*\n\s*")
_SPACE = re.compile(r"\s+")


def comparable(text: str) -> str:
    """Text as extraction leaves it, with only extraction's own variations undone."""
    text = _LINE_END_HYPHEN.sub("", text.translate(_STRAIGHT))
    return _SPACE.sub(" ", text).strip()


@cache
def _page_text(source: str, page: int) -> str:
    reader = PdfReader(CORPUS / source)
    return reader.pages[page - 1].extract_text()


def _pages_text(source: str, first: int, last: int) -> str:
    return "\n".join(_page_text(source, page) for page in range(first, last + 1))


@pytest.fixture(scope="module")
def client(corpus_settings: Settings, corpus_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(corpus_settings, services=corpus_services)) as client:
        yield client


@pytest.fixture(scope="module")
def answers() -> dict[str, dict[str, Any]]:
    """Each question's `/ask` response, asked once for both tests."""
    return {}


def _ask(client: TestClient, answers: dict[str, dict[str, Any]], question: str) -> dict[str, Any]:
    if question not in answers:
        response = client.post("/ask", json={"question": question})
        assert response.status_code == 200, response.text
        answers[question] = response.json()
    return answers[question]


def test_the_normaliser_forgives_extraction_only() -> None:
    page = "the safe-\nguarding  of \u201cvulnerable\u201d\npeople"
    assert comparable('the safeguarding of "vulnerable" people') in comparable(page)
    assert comparable("the safeguarding of vulnerable adults") not in comparable(page)


QUESTION_IDS = [doc[:10] + "-" + re.sub(r"\W+", "-", fact) for _, doc, fact in QUESTIONS]


@pytest.mark.parametrize(("question", "doc_id", "fact"), QUESTIONS, ids=QUESTION_IDS)
def test_answer_cites_the_document_that_states_the_fact(
    client: TestClient, answers: dict[str, dict[str, Any]], question: str, doc_id: str, fact: str
) -> None:
    body = _ask(client, answers, question)
    assert body["answered"] is True, body["answer"]
    citing = [c for c in body["citations"] if fact in c["quote"]]
    assert citing, [c["quote"] for c in body["citations"]]
    assert {c["document"]["id"] for c in citing} == {doc_id}


@pytest.mark.parametrize(("question", "doc_id", "fact"), QUESTIONS, ids=QUESTION_IDS)
def test_every_quote_is_verbatim_on_its_cited_pages(
    client: TestClient, answers: dict[str, dict[str, Any]], question: str, doc_id: str, fact: str
) -> None:
    body = _ask(client, answers, question)
    assert body["citations"], body["answer"]
    for citation in body["citations"]:
        source = citation["document"]["source"]
        first, last = citation["page"], citation.get("page_end", citation["page"])
        assert 1 <= first <= last <= len(PdfReader(CORPUS / source).pages)
        assert citation["url"].endswith(f"#page={first}")
        on_pages = comparable(_pages_text(source, first, last))
        assert comparable(citation["quote"]) in on_pages, (
            f"[{citation['n']}] not on {source} pp. {first}-{last}: {citation['quote']!r}"
        )
