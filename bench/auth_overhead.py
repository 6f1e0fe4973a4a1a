"""What access control costs a search: warm HTTP `POST /search` p50/p95 on one index served
twice, open (no key made: the local demo) and with keys (a public key: every request's key
checked, its rate counted, retrieval narrowed to public papers, an audit row written).
Both apps run in this process on real uvicorn; the rounds alternate so drift hits both alike.

    python -m bench.auth_overhead [--data-dir DIR] [--questions FILE] [--rounds 5]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.latency import (
    DEV_QUESTIONS,
    http_search,
    ingested_services,
    log,
    percentiles,
    print_header,
    run_header,
    serving,
    settings_for,
    time_calls,
)
from service.evaluation import load_questions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="an ingested data folder (else corpus/)")
    parser.add_argument("--questions", type=Path, default=DEV_QUESTIONS)
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the questions")
    args = parser.parse_args(argv)

    from service.access.keys import KeyStore
    from service.api.app import create_app

    queries = [q["question"] for q in load_questions(args.questions)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        services, _ = ingested_services(args.data_dir, work)
        open_settings = settings_for(work / "open")
        # the limit is checked as ever, but set high enough never to refuse the bench
        keyed_settings = settings_for(work / "keyed").model_copy(
            update={"rate_limits": {"public": 1_000_000}}
        )
        _, key = KeyStore(keyed_settings.access_db_path).create("bench", "public")
        timings: dict[str, list[float]] = {"open": [], "with keys": []}
        with (
            serving(create_app(open_settings, services=services)) as open_url,
            serving(create_app(keyed_settings, services=services)) as keyed_url,
        ):
            callers = {
                "open": http_search(open_url, 10),
                "with keys": http_search(keyed_url, 10, key=key),
            }
            for call, _ in callers.values():
                time_calls(call, queries)  # warm-up pass
            for round_number in range(args.rounds):
                log(f"round {round_number + 1} of {args.rounds}…")
                for name, (call, _) in callers.items():
                    timings[name] += time_calls(call, queries)
            for _, close in callers.values():
                close()
    print_header(run_header())
    print(f"warm HTTP POST /search (k=10), {len(queries)} questions × {args.rounds} rounds\n")
    print("| app | p50 ms | p95 ms | n |\n|---|---|---|---|")
    figures = {name: percentiles(samples) for name, samples in timings.items()}
    for name, figure in figures.items():
        print(f"| {name} | {figure['p50_ms']} | {figure['p95_ms']} | {figure['n']} |")
    gap = figures["with keys"]["p50_ms"] - figures["open"]["p50_ms"]
    print(f"\np50 with keys − open: {gap:+.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
