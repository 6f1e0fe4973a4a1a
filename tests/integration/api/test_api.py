"""The HTTP API, end to end through the ASGI app over the whole sample corpus (read-only)."""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, KEY_POINTS
from fastapi.testclient import TestClient

from ingest.reading.metadata import document_id
from service.api.app import create_app
from service.container import Services
from service.llm.models import make_chat_model
from service.settings import Settings

REPORT_2015 = "2015-02-02-oxford-city-council-safer-communities-partnership-report"
CORPUS_PDFS = sorted(CORPUS.glob("*.pdf"))
MARKER = re.compile(r"\[(\d+)\]")
# One or more markers in a row close a statement ("… [1]" or "… [1][2]").
MARKER_RUN = re.compile(r"(?:\s*\[\d+\])+")

RESULT_FIELDS = {"chunk_id", "text", "score", "page", "page_end", "section", "paragraph", "url"}
DOCUMENT_FIELDS = {"id", "title", "body", "date", "source"}
CITATION_FIELDS = {"n", "quote", "page", "paragraph", "url", "document"}


@pytest.fixture(scope="module")
def client(corpus_settings: Settings, corpus_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(corpus_settings, services=corpus_services)) as client:
        yield client


def _search(client: TestClient, query: str, **body: Any) -> list[dict[str, Any]]:
    response = client.post("/search", json={"query": query, **body})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def _doc_ids(results: list[dict[str, Any]]) -> set[str]:
    return {result["document"]["id"] for result in results}


# --- /search ------------------------------------------------------------------------------


def test_search_returns_passages_with_their_document_and_page(client: TestClient) -> None:
    results = _search(client, "neighbour nuisance cases investigated in 2014", k=5)
    assert len(results) == 5
    for result in results:
        assert result.keys() >= RESULT_FIELDS
        assert result["document"].keys() >= DOCUMENT_FIELDS
        assert result["text"].strip()
        assert 1 <= result["page"] <= result["page_end"]
        assert result["url"] == f"/documents/{result['document']['id']}/file#page={result['page']}"
        assert result["chunk_id"].startswith(result["document"]["id"])
    scores = [result["score"] for result in results]
    assert scores == sorted(scores, reverse=True)
    assert results[0]["document"]["id"] == REPORT_2015
    assert "680" in results[0]["text"]


@pytest.mark.parametrize("k", [1, 50])
def test_search_k_within_bounds(client: TestClient, k: int) -> None:
    results = _search(client, "domestic abuse", k=k)
    assert len(results) == k  # the corpus has far more than 50 passages on domestic abuse


@pytest.mark.parametrize("k", [0, -1, 51])
def test_search_k_outside_bounds_is_rejected(client: TestClient, k: int) -> None:
    response = client.post("/search", json={"query": "domestic abuse", "k": k})
    assert response.status_code == 422
    assert any(error["loc"][-1] == "k" for error in response.json()["detail"])


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_search_blank_query_is_rejected(client: TestClient, query: str) -> None:
    response = client.post("/search", json={"query": query})
    assert response.status_code == 422


@pytest.mark.faults
@pytest.mark.parametrize(
    ("route", "field"),
    [("/search", "query"), ("/ask", "question"), ("/ask/stream", "question"), ("/themes", "theme")],
)
@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("domestic abuse \ud800", "unicode string"),  # a lone surrogate, as JSON allows
        ("\u200b\u200b\u200b", "no visible characters"),  # zero-width spaces only
        ("\ufeff\u2060 \u200d", "no visible characters"),
    ],
)
def test_unreadable_text_is_refused_with_what_is_wrong(
    client: TestClient, route: str, field: str, text: str, says: str
) -> None:
    # The body is written by hand: a lone surrogate cannot be encoded as UTF-8, only escaped.
    body = json.dumps({field: text})
    response = client.post(route, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert says in response.text


@pytest.mark.faults
def test_a_body_over_the_cap_is_refused_before_it_is_read(client: TestClient) -> None:
    big = json.dumps({"question": "domestic abuse " * 20_000})  # ~300 kB
    response = client.post("/ask", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "BOARDPAPERS_MAX_REQUEST_BYTES" in response.json()["detail"]


@pytest.mark.faults
def test_a_body_sent_without_a_length_is_cut_off_at_the_cap(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length to go by
        yield b'{"query": "'
        for _ in range(100):
            yield b"domestic abuse " * 100
        yield b'"}'

    response = client.post(
        "/search", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.faults
def test_past_its_work_slots_the_service_answers_503_with_retry_after(
    corpus_settings: Settings, corpus_services: Services
) -> None:
    busy = corpus_settings.model_copy(update={"work_slots": 1, "work_wait_seconds": 0.0})
    statuses: list[tuple[int, str | None]] = []
    with TestClient(create_app(busy, services=corpus_services)) as client:

        def ask() -> None:
            response = client.post("/ask", json={"question": ANSWERABLE})
            statuses.append((response.status_code, response.headers.get("retry-after")))

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # once the burst is over the slot is free again
        assert client.post("/ask", json={"question": ANSWERABLE}).status_code == 200
    assert {status for status, _ in statuses} == {200, 503}, statuses
    assert all(retry == "1" for status, retry in statuses if status == 503)


def test_search_documents_filter_keeps_to_that_document(client: TestClient) -> None:
    query = "domestic abuse governance"
    key_points = document_id(KEY_POINTS)
    assert _doc_ids(_search(client, query, k=10)) - {key_points}, "the filter must matter"
    results = _search(client, query, k=10, filters={"documents": [key_points]})
    assert results, "the filtered search found nothing"
    assert _doc_ids(results) == {key_points}


def test_search_bodies_filter_keeps_to_that_body(client: TestClient) -> None:
    query = "anti-social behaviour"
    body = "Oxford City Council"
    assert {r["document"]["body"] for r in _search(client, query, k=10)} - {body}
    results = _search(client, query, k=10, filters={"bodies": [body]})
    assert results, "the filtered search found nothing"
    assert {result["document"]["body"] for result in results} == {body}


def test_search_date_range_excludes_papers_outside_it(client: TestClient) -> None:
    query = "domestic abuse"
    date_from, date_to = "2016-01-01", "2017-06-30"
    unfiltered = _search(client, query, k=20)
    assert any(not date_from <= r["document"]["date"] <= date_to for r in unfiltered)
    results = _search(client, query, k=20, filters={"date_from": date_from, "date_to": date_to})
    assert results, "the filtered search found nothing"
    for result in results:
        assert date_from <= result["document"]["date"] <= date_to, result["document"]


def test_search_rejects_a_malformed_date(client: TestClient) -> None:
    response = client.post("/search", json={"query": "crime", "filters": {"date_from": "soon"}})
    assert response.status_code == 422


# --- /ask ---------------------------------------------------------------------------------

ANSWERABLE = (
    "How many neighbour nuisance cases did Oxford's Anti-Social Behaviour Investigation Team "
    "investigate in 2014?"
)


def test_ask_answers_with_a_marker_on_every_statement(client: TestClient) -> None:
    response = client.post("/ask", json={"question": ANSWERABLE})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answered"] is True
    answer: str = body["answer"]
    citations: list[dict[str, Any]] = body["citations"]
    assert citations

    # Every statement ends in one or more [n] markers: nothing uncited before or after them.
    pieces = MARKER_RUN.split(answer)
    assert pieces[-1].strip() == "", f"uncited text at the end: {pieces[-1]!r}"
    assert all(piece.strip() for piece in pieces[:-1]), answer

    numbers = {citation["n"] for citation in citations}
    assert numbers == set(range(1, len(citations) + 1))
    assert {int(n) for n in MARKER.findall(answer)} == numbers

    for citation in citations:
        assert citation.keys() >= CITATION_FIELDS
        assert citation["document"].keys() >= DOCUMENT_FIELDS
        assert citation["quote"].strip()
        assert citation["page"] >= 1
        doc = citation["document"]["id"]
        assert citation["url"] == f"/documents/{doc}/file#page={citation['page']}"

    fact = [c for c in citations if "680" in c["quote"]]
    assert fact, citations
    assert fact[0]["document"]["id"] == REPORT_2015


def test_ask_for_a_list_quotes_the_list_after_its_lead_in(client: TestClient) -> None:
    # The agreement sets its priorities out as a list after "Our priorities for 2017/18 are
    # to:"; without the lead-in rule the answer quoted only sentences about the partnership.
    body = client.post("/ask", json={"question": "Which priorities did the SOP set for 2017/18?"})
    quotes = [c["quote"] for c in body.json()["citations"]]
    listed = [q for q in quotes if "Our priorities for 2017/18 are to:" in q]
    assert listed, quotes
    for item in ("Reduce anti-social behaviour", "Reduce the risk of radicalisation"):
        assert item in listed[0]


@pytest.mark.parametrize(
    "question", [ANSWERABLE, "Which priorities did the SOP set for 2017/18?"], ids=["prose", "list"]
)
def test_ask_items_are_the_entries_under_the_lead(client: TestClient, question: str) -> None:
    # Whichever way the answerer writes it: a prose answer has no items; a list answer is its
    # lead followed by each item as a "- " line, and each item carries its own [n] markers.
    body = client.post("/ask", json={"question": question}).json()
    items = body["items"]
    assert isinstance(items, list)
    if items:
        lead, _, _ = body["answer"].partition("\n- ")
        assert lead.strip()
        assert body["answer"] == lead + "".join(f"\n- {item}" for item in items)
        numbers = {c["n"] for c in body["citations"]}
        for item in items:
            assert "\n" not in item
            assert {int(n) for n in MARKER.findall(item)} & numbers, item
    else:
        assert not re.search(r"\n- ", body["answer"]), body["answer"]


def test_ask_refuses_what_the_papers_do_not_cover(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "What is the boiling point of tungsten?"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answered"] is False
    assert body["citations"] == []
    assert not MARKER.search(body["answer"])


@pytest.mark.parametrize("body", [{"question": ""}, {"question": "  "}, {"question": "x", "k": 0}])
def test_ask_rejects_bad_requests(client: TestClient, body: dict[str, Any]) -> None:
    assert client.post("/ask", json=body).status_code == 422


# --- /documents ---------------------------------------------------------------------------


def test_documents_lists_every_paper_with_its_metadata(client: TestClient) -> None:
    response = client.get("/documents")
    assert response.status_code == 200
    documents = {doc["id"]: doc for doc in response.json()}
    assert set(documents) == {document_id(path) for path in CORPUS_PDFS}
    report = documents[REPORT_2015]
    assert report["title"] == "Oxford Safer Communities Partnership: report to Council"
    assert report["body"] == "Oxford City Council"
    assert report["date"] == "2015-02-02"
    assert (
        report["source"]
        == "2015-02-02_oxford-city-council_safer-communities-partnership-report.pdf"
    )
    for doc in documents.values():
        assert doc["pages"] > 0
        assert doc["chunks"] > 0
        assert doc["url"] == f"/documents/{doc['id']}/file"


def test_document_detail(client: TestClient) -> None:
    key_points = document_id(KEY_POINTS)
    response = client.get(f"/documents/{key_points}")
    assert response.status_code == 200
    doc = response.json()
    assert doc["id"] == key_points
    assert doc["source"] == KEY_POINTS.name
    assert doc["pages"] == 2
    assert doc["date"] == "2017-07-05"


@pytest.mark.parametrize("path", ["/documents/no-such-paper", "/documents/no-such-paper/file"])
def test_unknown_document_is_404_with_a_helpful_message(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "no-such-paper" in detail
    assert "GET /documents" in detail


@pytest.mark.parametrize("pdf", CORPUS_PDFS, ids=lambda path: path.stem[:30])
def test_document_file_is_the_original_pdf(client: TestClient, pdf: Path) -> None:
    response = client.get(f"/documents/{document_id(pdf)}/file")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response.content == pdf.read_bytes()


# --- health, page, docs -------------------------------------------------------------------


def test_healthz_counts_what_is_indexed(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    health = response.json()
    documents = client.get("/documents").json()
    assert health["status"] == "ok"
    assert health["documents"] == len(CORPUS_PDFS)
    assert health["chunks"] == sum(doc["chunks"] for doc in documents)
    assert health["answerer"] == "extractive"
    assert health["checks"] == {"index": "ok"}  # no LLM to check


def test_healthz_is_degraded_while_the_llm_cannot_be_reached(
    corpus_settings: Settings, corpus_services: Services, tmp_path: Path
) -> None:
    """An LLM endpoint nobody answers at: 503 "degraded", naming it; the index is fine."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"  # closed again before the probe
    settings = corpus_settings.model_copy(
        update={"data_dir": tmp_path, "answerer": "llm", "llm_base_url": dead, "llm_model": "m"}
    )
    services = dataclasses.replace(
        corpus_services, settings=settings, llm=make_chat_model(settings)
    )
    with TestClient(create_app(settings, services=services)) as llm_client:
        response = llm_client.get("/healthz")
    assert response.status_code == 503
    health = response.json()
    assert health["status"] == "degraded"
    assert health["checks"]["index"] == "ok"
    assert health["checks"]["llm"].startswith(f"the LLM at {dead}/models cannot be reached")


def test_home_page_is_html(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()


def test_openapi_describes_every_endpoint(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    schema = client.get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path, method in [
        ("/search", "post"),
        ("/ask", "post"),
        ("/documents", "get"),
        ("/documents/{doc_id}", "get"),
        ("/documents/{doc_id}/file", "get"),
        ("/healthz", "get"),
    ]:
        assert method in paths.get(path, {}), path
    # how a key is sent, so /docs can send one
    assert schema.json()["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
