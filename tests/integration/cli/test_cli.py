"""What the `boardpapers` command line prints, run against the ingested sample corpus."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS

from ingest.reading.metadata import document_id
from service.cli.main import main
from service.container import Services
from service.settings import Settings

QUESTION = "Who is the new community safety portfolio holder for Oxford City?"
KEY_POINTS = "2017-07-05-sop-coordination-group-key-points"


@pytest.fixture
def data_dir(corpus_settings: Settings, corpus_services: Services) -> list[str]:
    """`--data-dir` pointing at the ingested corpus (`corpus_services` ingests it)."""
    assert corpus_services.index.documents()
    return ["--data-dir", str(corpus_settings.data_dir)]


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def test_ask_prints_a_cited_answer_and_its_sources(
    capsys: pytest.CaptureFixture[str], data_dir: list[str]
) -> None:
    printed = _run(capsys, [*data_dir, "ask", QUESTION])
    response = json.loads(_run(capsys, [*data_dir, "ask", "--json", QUESTION]))
    assert response["answered"] is True
    citations: list[dict[str, Any]] = response["citations"]
    assert citations

    answer, _, sources = printed.partition("Sources:")
    assert sources, printed
    assert re.search(r"\[1\]", answer)
    assert "Tom Hayes" in answer
    for citation in citations:
        doc = citation["document"]
        entry = sources.split(f"[{citation['n']}] ", 1)[1].split("\n[", 1)[0]
        for shown in (doc["title"], doc["body"], doc["date"], f"p. {citation['page']}"):
            assert shown in entry, (shown, entry)
        assert f"“{citation['quote']}”" in entry
    assert any(c["document"]["id"] == KEY_POINTS for c in citations)


def test_ask_json_refuses_what_the_papers_do_not_cover(
    capsys: pytest.CaptureFixture[str], data_dir: list[str]
) -> None:
    question = "What is the boiling point of tungsten?"
    response = json.loads(_run(capsys, [*data_dir, "ask", "--json", question]))
    assert response["answered"] is False
    assert response["citations"] == []


def test_search_json_gives_k_results(
    capsys: pytest.CaptureFixture[str], data_dir: list[str]
) -> None:
    results = json.loads(_run(capsys, [*data_dir, "search", "-k", "3", "--json", QUESTION]))
    assert len(results) == 3
    for result in results:
        assert {"chunk_id", "text", "page", "url", "document"} <= result.keys()
    assert results[0]["document"]["id"] == KEY_POINTS


def test_search_prints_ranked_passages(
    capsys: pytest.CaptureFixture[str], data_dir: list[str]
) -> None:
    printed = _run(capsys, [*data_dir, "search", "-k", "2", QUESTION])
    assert re.search(r"^\[1\] .+ p\. \d+", printed, re.MULTILINE)
    assert re.search(r"^\[2\] ", printed, re.MULTILINE)
    assert not re.search(r"^\[3\] ", printed, re.MULTILINE)
    assert "Tom Hayes" in printed


def test_search_says_where_else_a_passage_is_printed(
    capsys: pytest.CaptureFixture[str], data_dir: list[str]
) -> None:
    question = "What is the Prevention of Homelessness Director's Group?"
    printed = _run(capsys, [*data_dir, "search", "-k", "3", question])
    results = json.loads(_run(capsys, [*data_dir, "search", "-k", "3", "--json", question]))
    repeats = [repeat for result in results for repeat in result["repeats"]]
    assert repeats
    for repeat in repeats:
        assert f"(also printed in {repeat['document']['title']}, p. {repeat['page']})" in printed


def test_documents_lists_the_five_papers(
    capsys: pytest.CaptureFixture[str], data_dir: list[str]
) -> None:
    printed = _run(capsys, [*data_dir, "documents"])
    listed = [line for line in printed.splitlines() if line and not line[0].isspace()]
    assert sorted(listed) == sorted(document_id(pdf) for pdf in CORPUS.glob("*.pdf"))
    assert "Safer Oxfordshire Partnership Coordination Group: key points" in printed
    as_json = json.loads(_run(capsys, [*data_dir, "documents", "--json"]))
    assert len(as_json) == 5


def _write_questions(folder: Path) -> Path:
    # Evidence quotes copied from corpus/source, line breaks and all, as the gold files keep them.
    questions = [
        {
            "id": "t1",
            "type": "fact",
            "question": "Who became Oxford City's community safety portfolio holder in 2017?",
            "evidence": [
                {
                    "doc": "2017-07-05_sop-coordination-group_key-points",
                    "quote": "It was also noted that the new community safety \nportfolio holder "
                    "for Oxford City is Cllr Tom Hayes.",
                }
            ],
        },
        {
            "id": "t2",
            "type": "fact",
            "question": "What is the approximate child population of Oxfordshire?",
            "evidence": [
                {
                    "doc": "2024-12-05_oxfordshire-health-wellbeing-board_agenda-pack",
                    "quote": "The child population of Oxfordshire stands at approximately 152,205.",
                }
            ],
        },
        {
            "id": "t3",
            "type": "unanswerable",
            "question": "What is the boiling point of tungsten?",
            "evidence": [],
        },
    ]
    path = folder / "questions.jsonl"
    path.write_text("\n".join(json.dumps(q) for q in questions) + "\n", encoding="utf-8")
    return path


def test_eval_scores_a_question_file(
    capsys: pytest.CaptureFixture[str], data_dir: list[str], tmp_path: Path
) -> None:
    questions = str(_write_questions(tmp_path))
    printed = _run(capsys, [*data_dir, "eval", questions, "-k", "5"])
    for figure in ("hit@5", "all@5", "evidence_recall@5", "mrr", "unanswerable_refused"):
        assert re.search(rf"^{re.escape(figure)}\s+\S", printed, re.MULTILINE), printed

    figures = json.loads(_run(capsys, [*data_dir, "eval", questions, "-k", "5", "--json"]))
    assert figures["questions"] == 2
    assert figures["hit@5"] == 1.0
    assert figures["all@5"] == 1.0
    assert figures["evidence_recall@5"] == 1.0
    assert 0 < figures["mrr"] <= 1
    assert figures["unanswerable"] == 1
    assert figures["unanswerable_refused"] == 1


def test_eval_lists_the_gold_quotes_it_misses(
    capsys: pytest.CaptureFixture[str], data_dir: list[str], tmp_path: Path
) -> None:
    found = "It was also noted that the new community safety portfolio holder for Oxford City"
    invented = "The partnership resolved to paint every bench in Banbury bright purple."
    question = {
        "id": "m1",
        "type": "multi",
        "question": "Who became Oxford City's community safety portfolio holder in 2017?",
        "evidence": [
            {"doc": "2017-07-05_sop-coordination-group_key-points", "quote": found},
            {"doc": "2017-07-05_sop-coordination-group_key-points", "quote": invented},
        ],
    }
    path = tmp_path / "questions.jsonl"
    path.write_text(json.dumps(question) + "\n", encoding="utf-8")
    argv = [*data_dir, "eval", str(path), "-k", "3", "--misses", "--depth", "20"]

    figures = json.loads(_run(capsys, [*argv, "--json"]))
    assert figures["evidence_recall@3"] == 0.5
    assert figures["misses"] == [
        {
            "question_id": "m1",
            "doc": "2017-07-05_sop-coordination-group_key-points",
            "quote": invented,
            "rank": None,
        }
    ]
    printed = _run(capsys, argv)
    [line] = [line for line in printed.splitlines() if line.startswith("m1")]
    assert "not in 20" in line
    assert "paint every bench" in line
