"""Fit the extractive answerer's signal weights and its refusal floor on both development sets.

For each answerable question (types fact, paraphrase, filtered, multi) the answerer's own
candidate statements are cut and their signals measured exactly as `/ask` does
(`StatementScorer`); a statement is a target when it overlaps a gold quote of its document by
the shared rule. The weights are fitted by a softmax over each question's candidates (the
first statement is what is scored), on both sets together, and — to show what holds on papers
not fitted on — on each set alone, scored on the other. Then the refusal curve: for each floor,
the share of unanswerable questions refused and of answerable ones answered, on each set.

Prints figures and the weights to paste into `service/answers/scoring.py`; never passes or
fails.

    python -m bench.answer_weights --set oxfordshire DATA_DIR ../shared/eval/questions-dev.jsonl \\
        --set kent DATA_DIR_KENT ../shared/eval/questions-kent-dev.jsonl
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.answers import dev_sets_parser
from bench.latency import log, print_header, run_header
from service.answers.evidence import check_statements
from service.answers.scoring import SIGNAL_WEIGHTS, SIGNALS, StatementScorer
from service.answers.statements import statements_of
from service.container import build_services
from service.evaluation import ANSWER_TYPES, load_questions, quotes_overlap
from service.retrieval.hits import chunk_hits
from service.settings import Settings

L2 = 0.01
STEPS = 600
RATE = 0.5


@dataclass
class Candidates:
    question_id: str
    answerable: bool
    scored_type: bool  # its answer is scored (fact, paraphrase, filtered, multi)
    signals: np.ndarray  # statements × SIGNALS
    targets: np.ndarray  # statements: overlaps a gold quote
    missing_specifics: bool  # a year, figure or acronym the question names is in no passage
    closeness: float  # the closest passage's similarity to the question


def collect(data_dir: Path, questions_file: Path) -> list[Candidates]:
    services = build_services(Settings(data_dir=data_dir))
    tokenizer = services.index.keyword_index().tokenizer
    scorer = StatementScorer(services.index.embeddings)
    out = []
    for question in load_questions(questions_file):
        read = services.reader.read(question["question"])
        hits = services.retriever.search(read, k=services.settings.answer_passages, closeness=True)
        chunks = chunk_hits(hits[: services.settings.answer_passages])
        statements = statements_of(read, chunks, tokenizer)
        check = check_statements(read, statements, services.settings)
        statements = scorer.ranked(read, statements)
        docs = [Path(s.hit.chunk.meta.source).stem for s in statements]
        targets = [
            any(
                doc == e["doc"] and quotes_overlap(s.text, e["quote"]) for e in question["evidence"]
            )
            for s, doc in zip(statements, docs, strict=True)
        ]
        out.append(
            Candidates(
                question["id"],
                bool(question["evidence"]),
                question["type"] in ANSWER_TYPES,
                np.array([[s.signals[n] for n in SIGNALS] for s in statements]).reshape(
                    len(statements), len(SIGNALS)
                ),
                np.array(targets, dtype=float),
                bool(check.missing_specifics),
                check.best_similarity,
            )
        )
    return out


def fit(sets: list[list[Candidates]]) -> np.ndarray:
    """Softmax over each question's statements towards its gold-overlapping ones."""
    data = [c for each in sets for c in each if c.scored_type and c.targets.sum() > 0]
    weights = np.zeros(len(SIGNALS))
    for _ in range(STEPS):
        gradient = L2 * weights
        for c in data:
            scores = c.signals @ weights
            p = np.exp(scores - scores.max())
            p /= p.sum()
            gradient = gradient + c.signals.T @ (p - c.targets / c.targets.sum())
        weights -= RATE * gradient / max(len(data), 1)
    return weights


def first_right(candidates: list[Candidates], weights: np.ndarray) -> dict[str, float]:
    """Share of scored questions whose best statement overlaps gold (if answered), whose
    first four do, and whose candidates hold one at all (the ceiling)."""
    scored = [c for c in candidates if c.answerable and c.scored_type]
    first = any4 = ceiling = 0
    for c in scored:
        if not len(c.targets):
            continue
        order = np.argsort(-(c.signals @ weights))
        first += c.targets[order[0]] > 0
        any4 += c.targets[order[:4]].max() > 0
        ceiling += c.targets.max() > 0
    n = len(scored) or 1
    return {"first": first / n, "first4": any4 / n, "ceiling": ceiling / n}


def refusal_curve(candidates: list[Candidates], floor: float) -> tuple[float, float]:
    """(share of unanswerable questions refused, share of answerable ones answered) when the
    closest passage must reach `floor` and the question's specifics be in the evidence."""
    refused = [c.closeness < floor or c.missing_specifics for c in candidates]
    unanswerable = [r for r, c in zip(refused, candidates, strict=True) if not c.answerable]
    answered = [not r for r, c in zip(refused, candidates, strict=True) if c.answerable]
    return (
        sum(unanswerable) / max(len(unanswerable), 1),
        sum(answered) / max(len(answered), 1),
    )


def main() -> None:
    parser = dev_sets_parser(__doc__)
    args = parser.parse_args()
    print_header(run_header())
    sets: dict[str, list[Candidates]] = {}
    for name, data_dir, questions in args.set:
        log(f"cutting and scoring the statements of {name}…")
        sets[name] = collect(Path(data_dir), Path(questions))
    current = np.array([SIGNAL_WEIGHTS[n] for n in SIGNALS])
    fitted: dict[str, Any] = {"current": current, "all sets": fit(list(sets.values()))}
    for name in sets:
        fitted[f"{name} only"] = fit([sets[name]])
    print("\n| weights | " + " | ".join(f"{n}: first / first 4 / ceiling" for n in sets) + " |")
    print("|---|" + "---|" * len(sets))
    for label, weights in fitted.items():
        cells = []
        for name in sets:
            f = first_right(sets[name], weights)
            cells.append(f"{f['first']:.3f} / {f['first4']:.3f} / {f['ceiling']:.3f}")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print("\nweights fitted on all sets:")
    for name, value in zip(SIGNALS, fitted["all sets"], strict=True):
        print(f'    "{name}": {value:.2f},')
    print("\nrefusal curve: closeness floor → unanswerable refused / answerable answered")
    for floor in np.arange(0.2, 0.81, 0.05):
        cells = ["{:.2f} / {:.2f}".format(*refusal_curve(sets[name], floor)) for name in sets]
        print(
            f"  {floor:4.2f}  " + "   ".join(f"{n}: {c}" for n, c in zip(sets, cells, strict=True))
        )


if __name__ == "__main__":
    main()
