"""Exports for briefing writers, over the ingested sample papers: a theme scan and an answer as
Markdown whose rows link to the cited page, and as a Word evidence table (opened here with
python-docx), over HTTP and from the command line."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.table import Table
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.citations import on_pages
from service.cli.main import main
from service.container import Services
from service.exports.answers import SOURCE_COLUMNS
from service.exports.docx import DOCX_MEDIA_TYPE
from service.settings import Settings
from service.themes.export import MD_COLUMNS

THEME = "domestic abuse"
QUESTION = "Who is the new community safety portfolio holder for Oxford City?"
BASE = "http://testserver/"  # TestClient's base URL: links are made absolute on it
# A Markdown row's document cell: [title](url), the title's brackets escaped.
MD_LINK = re.compile(r"^\[(?P<text>(?:\\.|[^\]])*)\]\((?P<url>[^)]*)\)$")


@pytest.fixture
def client(settings: Settings, corpus_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(settings, services=corpus_services)) as test_client:
        yield test_client


def _theme_places(client: TestClient) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    body = client.post("/themes", json={"theme": THEME}).json()
    return [(group["document"], place) for group in body["documents"] for place in group["places"]]


def _page_link(doc_id: str, page: int) -> str:
    return f"{BASE}documents/{doc_id}/file#page={page}"


def _md_rows(markdown: str) -> list[list[str]]:
    table = [line for line in markdown.splitlines() if line.startswith("|")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))] for line in table]


def _only_table(data: bytes) -> Table:
    document = Document(io.BytesIO(data))
    assert len(document.tables) == 1
    return document.tables[0]


def _title(data: bytes) -> str:
    return str(Document(io.BytesIO(data)).paragraphs[0].text)


def _quote_on_its_pages(services: Services, doc_id: str, quote: str, first: int, last: int) -> bool:
    """Each part of the quote (a place joins the sentences that mention the theme with " … ")
    is word for word on the cited pages; a place's page is where its paragraph starts, which may
    run onto the next page."""
    texts = services.index.manifest.page_texts(doc_id)
    return all(on_pages(part, texts, first, last) for part in quote.split(" … "))


def test_theme_docx_is_an_evidence_table_of_verbatim_quotes_linked_to_their_pages(
    client: TestClient, corpus_services: Services
) -> None:
    places = _theme_places(client)
    assert len(places) >= 10
    response = client.post("/themes?format=docx", json={"theme": THEME})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == DOCX_MEDIA_TYPE
    assert response.headers["content-disposition"] == (
        'attachment; filename="theme-domestic-abuse.docx"'
    )
    title = _title(response.content)
    assert title.startswith(f"Theme: {THEME} (")
    assert re.search(r"\(\d{1,2} [A-Z][a-z]+ \d{4}\)$", title), title  # the date it was made
    table = _only_table(response.content)
    header, *rows = table.rows
    assert [cell.text for cell in header.cells] == list(MD_COLUMNS)
    assert len(rows) == len(places)
    for row, (doc, place) in zip(rows, places, strict=True):
        document, _, page, paragraph, kind, quote = (cell.text for cell in row.cells)
        assert (document, page, paragraph, kind) == (
            doc["title"], str(place["page"]), place["paragraph"] or "", place["kind"]
        )  # fmt: skip
        assert quote == " ".join(place["quote"].split())
        first = place["page"]
        assert _quote_on_its_pages(corpus_services, doc["id"], quote, first, first + 1)
        links = row.cells[0].paragraphs[0].hyperlinks
        assert [(link.text, link.url) for link in links] == [
            (doc["title"], _page_link(doc["id"], place["page"]))
        ]


def test_theme_markdown_rows_link_to_the_cited_page(
    client: TestClient, corpus_services: Services
) -> None:
    places = _theme_places(client)
    response = client.post("/themes?format=md", json={"theme": THEME})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.headers["content-disposition"] == 'inline; filename="theme-domestic-abuse.md"'
    header, _, *rows = _md_rows(response.text)
    assert header == list(MD_COLUMNS)
    assert len(rows) == len(places)
    for row, (doc, place) in zip(rows, places, strict=True):
        link = MD_LINK.match(row[0])
        assert link, row[0]
        assert link["text"] == doc["title"]
        assert link["url"] == _page_link(doc["id"], place["page"])
        quote, first = row[5].replace("\\|", "|"), place["page"]
        assert _quote_on_its_pages(corpus_services, doc["id"], quote, first, first + 1)
    # The body's `format` still chooses when the query names none.
    by_body = client.post("/themes", json={"theme": THEME, "format": "csv"})
    assert by_body.headers["content-type"] == "text/csv; charset=utf-8"
    assert by_body.text.startswith("document,document_id,")


def test_answer_exports_carry_the_answer_and_its_numbered_linked_sources(
    client: TestClient, corpus_services: Services
) -> None:
    answer = client.post("/ask", json={"question": QUESTION}).json()
    citations = answer["citations"]
    assert citations
    markdown = client.post("/ask?format=md", json={"question": QUESTION})
    assert markdown.status_code == 200
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.text.startswith(f"# Question: {QUESTION}\n\n{answer['answer']}\n")
    header, _, *rows = _md_rows(markdown.text)
    assert header == list(SOURCE_COLUMNS)
    assert [row[0] for row in rows] == [f"[{c['n']}]" for c in citations]
    for row, citation in zip(rows, citations, strict=True):
        link = MD_LINK.match(row[1])
        assert link, row[1]
        assert link["url"] == _page_link(citation["document"]["id"], citation["page"])

    docx = client.post("/ask?format=docx", json={"question": QUESTION})
    assert docx.status_code == 200
    assert docx.headers["content-type"] == DOCX_MEDIA_TYPE
    assert docx.headers["content-disposition"].startswith('attachment; filename="answer-who-is-')
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "Tom Hayes" in text  # the answer, with its markers
    assert "[1]" in text
    header_row, *source_rows = _only_table(docx.content).rows
    assert [cell.text for cell in header_row.cells] == list(SOURCE_COLUMNS)
    for row, citation in zip(source_rows, citations, strict=True):
        ref, _, _, pages, _, quote = (cell.text for cell in row.cells)
        doc_id, first, last = citation["document"]["id"], citation["page"], citation["page_end"]
        assert ref == f"[{citation['n']}]"
        assert pages == (str(first) if last == first else f"{first}–{last}")
        assert _quote_on_its_pages(corpus_services, doc_id, quote, first, last)
        (link,) = row.cells[1].paragraphs[0].hyperlinks
        assert (link.text, link.url) == (citation["document"]["title"], _page_link(doc_id, first))
    assert client.post("/ask?format=pdf", json={"question": QUESTION}).status_code == 422


@pytest.fixture
def data_dir(corpus_settings: Settings, corpus_services: Services) -> list[str]:
    assert corpus_services.index.documents()
    return ["--data-dir", str(corpus_settings.data_dir)]


def test_cli_writes_docx_to_a_file_and_never_to_standard_output(
    data_dir: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = main([*data_dir, "themes", THEME, "--format", "docx"])
    out, err = capsys.readouterr()
    assert refused == 2
    assert out == ""
    assert "--out" in err
    assert "theme-domestic-abuse.docx" in err  # a file name to use

    target = tmp_path / "slavery.docx"
    base = ["--base-url", "http://papers.example:8000"]
    assert main([*data_dir, "themes", THEME, "--out", str(target), *base]) == 0  # by suffix
    out, err = capsys.readouterr()
    assert out == ""
    assert f"Wrote {target}." in err
    header, first, *_ = _only_table(target.read_bytes()).rows
    assert [cell.text for cell in header.cells] == list(MD_COLUMNS)
    (link,) = first.cells[0].paragraphs[0].hyperlinks
    assert re.fullmatch(
        r"http://papers\.example:8000/documents/[\w.-]+/file#page=" + first.cells[2].text,
        link.url,
    ), link.url


def test_cli_ask_exports_markdown_and_docx(
    data_dir: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--base-url", "http://papers.example:8000/"]
    assert main([*data_dir, "ask", QUESTION, "--format", "md", *base]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith(f"# Question: {QUESTION}\n")
    header, _, *rows = _md_rows(markdown)
    assert header == list(SOURCE_COLUMNS)
    assert rows
    for row in rows:
        link = MD_LINK.match(row[1])
        assert link, row[1]
        assert re.fullmatch(
            r"http://papers\.example:8000/documents/[\w.-]+/file#page=" + row[3].split("–")[0],
            link["url"],
        ), link["url"]

    assert main([*data_dir, "ask", QUESTION, "--format", "docx"]) == 2
    assert "--out" in capsys.readouterr().err
    target = tmp_path / "answer.docx"
    assert main([*data_dir, "ask", QUESTION, "--out", str(target)]) == 0
    err = capsys.readouterr().err
    assert "--base-url" in err  # relative links: says how to make them open from the file
    _, *source_rows = _only_table(target.read_bytes()).rows
    assert len(source_rows) == len(rows)
    assert source_rows[0].cells[1].paragraphs[0].hyperlinks[0].url.startswith("/documents/")
