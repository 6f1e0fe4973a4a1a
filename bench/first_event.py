"""Warm time to the first server-sent event of `POST /ask/stream`, over real HTTP.

Issue 5 asks for the first event within 300 ms warm for extractive answers. This serves
`create_app` from a real uvicorn on loopback (the helpers of `bench.latency`), sends one
warm-up pass of the questions, then times `--requests` streamed answers: milliseconds to the
first event (`passages`), to the first `delta`, and to `done`. Prints figures, never passes
or fails on them.

    python -m bench.first_event [--data-dir DIR] [--requests 20] [--json]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from itertools import cycle, islice
from pathlib import Path

import httpx

from bench.latency import (
    DEV_QUESTIONS,
    ingested_services,
    percentiles,
    print_json_or_header,
    run_header,
    serving,
)
from service.evaluation import load_questions

# Used when the shared development questions are not beside the project.
FALLBACK_QUESTIONS = [
    "How many people were detained under Section 136 of the Mental Health Act in 2016?",
    "What was the adult re-offending rate in Oxfordshire in 2014?",
    "What reduction in crime did the Oxford Police Commander report?",
    "How much funding was allocated to the district councils for safe accommodation?",
    "What are the priorities of the Community Safety Agreement?",
]


def timed_stream(client: httpx.Client, question: str) -> dict[str, float]:
    """Milliseconds from sending the request to the first event, first delta and `done`."""
    marks: dict[str, float] = {}
    start = time.perf_counter()
    with client.stream("POST", "/ask/stream", json={"question": question}) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("event: "):
                continue
            name = line.removeprefix("event: ")
            elapsed = (time.perf_counter() - start) * 1000
            marks.setdefault("first_event", elapsed)
            if name == "delta":
                marks.setdefault("first_delta", elapsed)
            if name in ("done", "error"):
                marks["done"] = elapsed
    return marks


def question_texts(path: Path) -> list[str]:
    """The questions of a gold file, or a few of our own when there is none."""
    if not path.is_file():
        return FALLBACK_QUESTIONS
    return [question["question"] for question in load_questions(path)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.first_event",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", type=Path, help="an ingested data folder to reuse")
    parser.add_argument("--questions", type=Path, default=DEV_QUESTIONS)
    parser.add_argument("--requests", type=int, default=20, help="timed requests")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)

    from service.api.app import create_app
    from service.settings import Settings

    header = run_header()
    questions = question_texts(args.questions)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        services, _ = ingested_services(args.data_dir, Path(tmp))
        # Conversations go to the temporary folder, never into the index's data folder.
        app = create_app(Settings(data_dir=Path(tmp) / "app"), services=services)
        with serving(app) as url, httpx.Client(base_url=url, timeout=120) as client:
            for question in questions[:5]:
                timed_stream(client, question)  # warm-up: model, caches, connection
            runs = [timed_stream(client, q) for q in islice(cycle(questions), args.requests)]
    figures = {
        **header,
        "answerer": services.answerer.mode,
        **{
            key: percentiles([run[key] for run in runs if key in run])
            for key in ("first_event", "first_delta", "done")
        },
        "target": {"first_event_ms": 300},
    }
    if print_json_or_header(figures, header, as_json=args.json):
        return 0
    print(f"{services.answerer.mode} answers; {args.requests} timed streams after a warm-up\n")
    print("| to | n | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|")
    for key in ("first_event", "first_delta", "done"):
        row = figures[key]
        print(f"| {key} | {row['n']} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} |")
    met = figures["first_event"]["p95_ms"] <= 300
    verdict = "met" if met else "NOT met"
    print(f"\nTarget (issue 5): first event within 300 ms warm — {verdict} at p95.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
