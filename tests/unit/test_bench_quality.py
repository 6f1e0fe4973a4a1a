"""bench.quality's sets, refusal count and tables: the pure parts (the bench runs by hand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.quality import (
    ABLATIONS,
    CORPUS,
    DEV_QUESTIONS,
    KENT_DEV_QUESTIONS,
    DevSet,
    SetResult,
    System,
    ablation_markdown,
    assign_data_dirs,
    default_sets,
    markdown,
    refusal_figures,
    retrieval_columns,
)
from service.evaluation import Passage


def _nothing(question: str, k: int) -> list[Passage]:
    return []


def test_the_default_sets_are_oxfordshire_and_kent_when_its_papers_are_there(
    tmp_path: Path,
) -> None:
    assert [(s.name, s.corpus, s.questions_file) for s in default_sets(tmp_path)] == [
        ("oxfordshire", CORPUS, DEV_QUESTIONS),
        ("kent", tmp_path, KENT_DEV_QUESTIONS),
    ]
    assert [s.name for s in default_sets(tmp_path / "absent")] == ["oxfordshire"]


def test_a_data_dir_goes_to_the_set_it_names_and_a_bare_one_to_the_first() -> None:
    sets = [DevSet("oxf", Path("a"), Path("q")), DevSet("kent", Path("b"), Path("r"))]
    assign_data_dirs(sets, ["kent=/d/kent", "/d/oxf"])
    assert [s.data_dir for s in sets] == [Path("/d/oxf"), Path("/d/kent")]
    with pytest.raises(ValueError, match="no set named 'essex'"):
        assign_data_dirs(sets, ["essex=/d/essex"])


def test_refusals_count_unanswerable_refused_and_answerable_answered() -> None:
    questions: list[dict[str, Any]] = [
        {"question": "a", "evidence": [{"doc": "x", "quote": "q"}]},
        {"question": "b", "evidence": [{"doc": "x", "quote": "q"}]},
        {"question": "c", "evidence": []},
        {"question": "d", "evidence": []},
    ]
    answers = {"a": True, "b": False, "c": False, "d": True}
    assert refusal_figures(questions, answers.__getitem__) == {
        "unanswerable": 2,
        "unanswerable_refused": 1,
        "answerable_answered_share": 0.5,
    }


def test_the_columns_are_hit_and_all_at_the_first_k_recall_at_each_mrr_at_the_deepest() -> None:
    assert retrieval_columns([5, 10]) == [
        "hit@5",
        "all@5",
        "evidence_recall@5",
        "evidence_recall@10",
        "mrr@10",
    ]


def test_one_table_holds_every_set_row_by_row() -> None:
    figures = {
        "hit@5": 1.0, "all@5": 0.9, "evidence_recall@5": 0.8, "evidence_recall@10": 0.85,
        "mrr@10": 0.75, "hit@5_by_type": {"fact": 1.0},
        "latency": {"p50_ms": 12.5, "p95_ms": 20.0},
    }  # fmt: skip
    results = [
        SetResult(
            DevSet(name, Path("c"), Path("q")),
            3,
            [System("boardpapers", _nothing, 7, None, 1.5, dict(figures))],
        )
        for name in ("oxf", "kent")
    ]
    lines = markdown(results, [5, 10]).splitlines()
    assert lines[0].startswith("| set | system | hit@5 | all@5 | recall@5 | recall@10 | MRR@10 |")
    row = "| oxf | boardpapers | 1.000 | 0.900 | 0.800 | 0.850 | 0.750 | 7 | reused | 1.5 |"
    assert lines[2] == row + " 12.5 | 20.0 |"
    assert lines[3].startswith("| kent | boardpapers | 1.000 |")
    assert "| kent | boardpapers | 1.000 |" in lines[-1]


def test_the_ablation_table_puts_the_sets_side_by_side() -> None:
    figures = {"hit@5": 1.0, "evidence_recall@10": 0.9, "mrr@10": 0.8}
    table = ablation_markdown(
        {"nothing (defaults)": {"oxf": figures, "kent": {**figures, "hit@5": 0.5}}},
        ["oxf", "kent"],
        [5, 10],
    )
    assert table.splitlines() == [
        "| switched off | oxf: hit@5 / r@10 / MRR | kent: hit@5 / r@10 / MRR |",
        "|---|---|---|",
        "| nothing (defaults) | 1.000 / 0.900 / 0.800 | 0.500 / 0.900 / 0.800 |",
    ]


def test_each_ablation_switches_one_retrieval_setting_off() -> None:
    from service.settings import Settings

    defaults = Settings()
    assert ABLATIONS["nothing (defaults)"] == {}
    for label, changes in ABLATIONS.items():
        for name, off in changes.items():
            assert getattr(defaults, name) != off, label
