"""Answer quality on the development sets, side by side, with each technique switched off in turn.

Every question goes through what `POST /ask` runs with its defaults (`Services.passages` and the
extractive answerer), scored by the shared rule (`service.evaluation`): `cited_first`,
`cited_any` and `figures` over the answerable fact, paraphrase, filtered and multi questions;
the share of unanswerable questions refused and of answerable ones answered; and the warm
in-process time per answer. With `--ablations`, the same again with one technique off at a time:
a signal's weight set to 0, or a refusal rule turned off. Prints figures, never passes or fails.

    python -m bench.answers --set oxfordshire DATA_DIR ../shared/eval/questions-dev.jsonl \\
        --set kent DATA_DIR_KENT ../shared/eval/questions-kent-dev.jsonl [--ablations]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bench.latency import log, percentiles, print_header, run_header
from service.answers.extractive import ExtractiveAnswerer
from service.answers.scoring import SIGNAL_WEIGHTS
from service.container import Services, build_services
from service.evaluation import answer_of, evaluate, load_questions
from service.settings import Settings

FIGURES = ("cited_first", "cited_any", "figures", "unanswerable_refused", "answerable_answered")


def _ablations() -> dict[str, tuple[dict[str, float] | None, dict[str, Any]]]:
    """Each technique off in turn: (signal weights, settings changed)."""
    runs: dict[str, tuple[dict[str, float] | None, dict[str, Any]]] = {
        "nothing (defaults)": (None, {})
    }
    for signal in SIGNAL_WEIGHTS:
        runs[f"signal `{signal}`"] = ({**SIGNAL_WEIGHTS, signal: 0.0}, {})
    runs["refusal: closeness floor"] = (None, {"min_relevance": -1.0})
    runs["list answers reach deeper"] = (None, {"list_passages": 6})
    return runs


def measure(
    services: Services, questions: list[dict[str, Any]], weights: dict[str, float] | None,
    changes: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    settings = services.settings.model_copy(update=changes)
    answerer = ExtractiveAnswerer(services.index, settings, weights)
    timings: list[float] = []

    def answer(text: str) -> Any:
        start = time.perf_counter()
        read = services.reader.read(text)
        result = answerer.answer(read, services.passages(read, 6))
        timings.append((time.perf_counter() - start) * 1000)
        return answer_of(result)

    report = evaluate(questions, lambda q, k: [], [1], answer)
    figures = report.figures()
    unanswerable = figures["unanswerable"]
    return {
        "cited_first": figures.get("cited_first"),
        "cited_any": figures.get("cited_any"),
        "figures": figures.get("figures"),
        "unanswerable_refused": f"{figures['unanswerable_refused']}/{unanswerable}",
        "answerable_answered": figures["answerable_answered_share"],
        "p50_ms": percentiles(timings)["p50_ms"],
    }


def dev_sets_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser taking each development set as `--set NAME DATA_DIR QUESTIONS`."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument(
        "--set", nargs=3, action="append", metavar=("NAME", "DATA_DIR", "QUESTIONS"),
        required=True, help="a development set: its name, ingested data folder, question file",
    )  # fmt: skip
    return parser


def main() -> None:
    parser = dev_sets_parser(__doc__)
    parser.add_argument("--ablations", action="store_true", help="each technique off in turn")
    args = parser.parse_args()
    print_header(run_header())
    sets = {
        name: (build_services(Settings(data_dir=Path(data))), load_questions(Path(questions)))
        for name, data, questions in args.set
    }
    runs = _ablations() if args.ablations else {"nothing (defaults)": (None, {})}
    header = " | ".join(f"{name}: {' / '.join(FIGURES)} / p50 ms" for name in sets)
    print(f"| switched off | {header} |")
    print("|---|" + "---|" * len(sets))
    for label, (weights, changes) in runs.items():
        cells = []
        for name, (services, questions) in sets.items():
            log(f"{label}: {name}…")
            figures = measure(services, questions, weights, changes)
            cells.append(" / ".join(str(figures[key]) for key in (*FIGURES, "p50_ms")))
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
