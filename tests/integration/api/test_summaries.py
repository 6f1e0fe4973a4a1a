"""Summaries: every quote verbatim on its cited page, readable key points, recommendations in
full, stored per document version, the CLI's files and digest, the HTTP routes, and the LLM
summariser keeping only quotes it can verify."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import KEY_POINTS, PROTOCOL, MakeServices
from fastapi.testclient import TestClient
from langchain_core.language_models import FakeListChatModel
from papers import make_pdf

from ingest.pipeline import ingest_paths
from service.api.app import create_app
from service.citations import on_pages
from service.cli.main import main
from service.container import Services
from service.settings import Settings
from service.summaries import DocumentSummary
from service.summaries.batch import select_documents, stored_or_new, summarise_documents
from service.summaries.extractive import ExtractiveSummariser, select
from service.summaries.llm import LLMSummariser
from service.summaries.render import summary_markdown
from service.summaries.store import SummaryStore

PACK = "2024-12-05-oxfordshire-health-wellbeing-board-agenda-pack"
BOILERPLATE = re.compile(r"apolog|declarations? of interest|@|contact officer|left blank", re.I)


def _summaries(services: Services) -> list[DocumentSummary]:
    summariser = ExtractiveSummariser(services.index, services.settings)
    return [summariser.summarise(doc.meta.doc_id) for doc in services.index.documents()]


def test_every_quote_in_every_summary_is_verbatim_on_its_cited_page(
    corpus_services: Services,
) -> None:
    summaries = _summaries(corpus_services)
    assert len(summaries) == 5
    for summary in summaries:
        pages = corpus_services.index.manifest.page_texts(summary.doc_id)
        points = list(summary.points())
        assert len(points) >= 5, summary.doc_id
        for point in points:
            assert on_pages(point.quote, pages, point.page, point.page_end), (
                summary.doc_id, point.page, point.quote,
            )  # fmt: skip


def test_key_points_read_well(corpus_services: Services) -> None:
    for summary in _summaries(corpus_services):
        assert (summary.purpose is None) == bool(summary.agenda)  # a pack's purpose: its agenda
        assert 4 <= len(summary.key_points) <= 12
        purpose = [summary.purpose] if summary.purpose else []
        for point in summary.key_points + summary.figures + purpose:
            text = point.quote
            assert text[0].isupper(), text
            assert text.rstrip("”\"')").endswith((".", "!", "?")), text
            assert not BOILERPLATE.search(text), text
        assert len({p.quote for p in summary.key_points}) == len(summary.key_points)
        decided = " ".join(q.quote for d in summary.decisions for q in [d.lead_in, *d.items] if q)
        assert not any(p.quote in decided for p in summary.key_points)  # listed once, not twice
        assert summary.themes, summary.doc_id


def test_pack_summary_has_its_agenda_and_every_recommendation(corpus_services: Services) -> None:
    summary = ExtractiveSummariser(corpus_services.index, corpus_services.settings).summarise(PACK)
    assert summary.meeting == "Oxfordshire Health & Wellbeing Board, 2024-12-05"
    assert len(summary.agenda) == 17
    quoted = " ".join(p.quote for p in summary.points())
    for phrase in (
        "endorse the plan to progress to wider consultation",
        "encourage the use of this tool in 2024-2025",
        "note the activities and outcomes of the Oxfordshire Combatting Drugs Partnership",
        "Approve the content of the Joint Strategic Needs Assessment for 2024",
    ):
        assert phrase in quoted, phrase
    markdown = summary_markdown(summary)
    assert "## Recommendations and decisions" in markdown
    assert "| 8 | Prevention of" in markdown


def test_summary_is_stored_and_recomputed_only_when_the_document_changes(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    paper = make_pdf(folder / "housing.pdf", "housing", pages=3)
    services = make_services(settings)
    ingest_paths([folder], services.index)
    store = SummaryStore(settings.summaries_database)
    summariser = ExtractiveSummariser(services.index, settings)

    first, reused = stored_or_new("housing", services.index, summariser, store)
    assert not reused
    again, reused = stored_or_new("housing", services.index, summariser, store)
    assert reused
    assert again.to_dict() == first.to_dict()
    assert select_documents(services.index, store, "extractive", new=True) == []

    make_pdf(paper, "housing", pages=4, revision=2)
    ingest_paths([folder], services.index)
    assert select_documents(services.index, store, "extractive", new=True) == ["housing"]
    changed, reused = stored_or_new("housing", services.index, summariser, store)
    assert not reused
    assert changed.version != first.version
    assert changed.pages == 4


def test_summarise_cli_writes_papers_and_a_digest_and_new_does_only_new(
    settings: Settings, make_services: MakeServices, tmp_path: Path, capsys: object
) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    for source in (KEY_POINTS, PROTOCOL):
        (folder / source.name).write_bytes(source.read_bytes())
    services = make_services(settings)
    ingest_paths([folder], services.index)
    out = tmp_path / "summaries"
    args = ["--data-dir", str(settings.data_dir), "summarise", "--out", str(out), "--quiet"]

    assert main(args + ["--new"]) == 0
    printed = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "2 summaries (extractive)" in printed
    for doc in services.index.documents():
        data = json.loads((out / f"{doc.meta.doc_id}.json").read_text())
        assert data["version"] == doc.version
        assert data["title"] == doc.meta.title
        assert (out / f"{doc.meta.doc_id}.md").read_text().startswith(f"# {doc.meta.title}")
    digest = (out / "digest.md").read_text()
    assert digest.count("\n## ") == 2
    assert "is requested to note the report" in digest

    second = tmp_path / "second"
    assert main(["--data-dir", str(settings.data_dir), "summarise", "--new", "--out",
                 str(second), "--quiet"]) == 0  # fmt: skip
    assert "0 summaries" in capsys.readouterr().out  # type: ignore[attr-defined]
    assert main(args + ["no-such-paper"]) == 1
    assert "no-such-paper" in capsys.readouterr().err  # type: ignore[attr-defined]


def test_summary_and_recommendation_routes(corpus_services: Services, settings: Settings) -> None:
    with TestClient(create_app(settings, services=corpus_services)) as client:
        summary = client.get(f"/documents/{PACK}/summary")
        assert summary.status_code == 200
        body = summary.json()
        assert body["doc_id"] == PACK
        assert body["mode"] == "extractive"
        assert body["key_points"]
        markdown = client.get(f"/documents/{PACK}/summary", params={"format": "markdown"})
        assert markdown.headers["content-type"].startswith("text/markdown")
        assert markdown.text.startswith("# Oxfordshire Health & Wellbeing Board agenda pack")
        recommendations = client.get(f"/documents/{PACK}/recommendations").json()
        assert len(recommendations["recommendations"]) == 19
        assert recommendations["agenda"][7]["first_page"] == 17
        assert client.get("/documents/nothing/summary").status_code == 404
        assert client.get("/documents/nothing/recommendations").status_code == 404


def test_llm_summariser_keeps_only_quotes_found_in_the_paper(corpus_services: Services) -> None:
    doc_id = "2017-07-05-sop-coordination-group-key-points"
    extractive = ExtractiveSummariser(corpus_services.index, corpus_services.settings)
    chunks = corpus_services.index.manifest.document_chunks(doc_id)
    excerpts = select(extractive.scored_candidates(chunks), extractive._vectors(chunks), 40)
    real = excerpts[0].text
    reply = {
        "purpose": {"text": "Notes of a coordination meeting.", "excerpt": 1, "quote": real},
        "key_points": [
            {"text": "A true point.", "excerpt": 1, "quote": real[: len(real) // 2]},
            {"text": "An invented point.", "excerpt": 1, "quote": "Crime fell by 90% in 2017."},
            {"text": "No excerpt given.", "quote": real},
        ],
        "themes": ["community safety"],
    }
    llm = FakeListChatModel(responses=[f"```json\n{json.dumps(reply)}\n```"])
    summary = LLMSummariser(corpus_services.index, corpus_services.settings, llm).summarise(doc_id)
    assert summary.mode == "llm"
    assert [p.text for p in summary.key_points] == ["A true point."]
    assert summary.purpose is not None
    assert summary.purpose.quote == real
    assert sum("dropped" in w for w in summary.warnings) == 2
    pages = corpus_services.index.manifest.page_texts(doc_id)
    assert all(on_pages(p.quote, pages, p.page, p.page_end) for p in summary.points())


def test_summaries_stream_through_the_batch_with_failures_reported(
    corpus_services: Services, tmp_path: Path
) -> None:
    store = SummaryStore(tmp_path / "summaries.sqlite3")
    summariser = ExtractiveSummariser(corpus_services.index, corpus_services.settings)
    report = summarise_documents(
        ["2017-07-05-sop-coordination-group-key-points", "missing-paper"],
        corpus_services.index, summariser, store, tmp_path / "out",
    )  # fmt: skip
    assert not report.ok
    assert list(report.failed) == ["missing-paper"]
    assert [s.doc_id for s in report.summaries] == ["2017-07-05-sop-coordination-group-key-points"]
    assert (tmp_path / "out" / "digest.md").is_file()
