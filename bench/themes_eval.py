"""Theme-scan quality and speed against exhaustive gold lists (themes-dev.jsonl).

For each theme, POST /themes (through the ASGI app) with the theme's question and score the
returned places with the project's hit rule (`service.evaluation.quote_hit`, same document):
recall of core gold places, recall of all gold places, and precision (a returned place that
matches no gold place is a false positive). Then the warm latency of /themes.

    .venv/bin/python -m bench.themes_eval [--data-dir DIR] [--gold FILE] [--field query|theme|name]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GOLD = ROOT.parent / "shared" / "eval" / "themes-dev.jsonl"


def score_theme(gold: list[dict[str, Any]], places: list[tuple[str, str]]) -> dict[str, Any]:
    """`places`: (doc, paragraph text) returned; `gold`: the theme's hits."""
    from service.evaluation import quote_hit, same_document

    def holds(doc: str, text: str, hit: dict[str, Any]) -> bool:
        return same_document(doc, hit["doc"]) and quote_hit(hit["quote"], text)

    covered = [any(holds(doc, text, g) for doc, text in places) for g in gold]
    true = [any(holds(doc, text, g) for g in gold) for doc, text in places]
    core = [c for c, g in zip(covered, gold, strict=True) if g["kind"] == "core"]
    return {
        "gold": len(gold), "core": len(core), "returned": len(places),
        "hit_all": sum(covered), "hit_core": sum(core), "true": sum(true),
        "missed": [g for c, g in zip(covered, gold, strict=True) if not c],
        "false": [p for t, p in zip(true, places, strict=True) if not t],
    }  # fmt: skip


def sent(theme: dict[str, Any], field: str) -> str:
    """What the reader sends: `name` is the theme's name without the synonyms in brackets."""
    if field == "name":
        return str(theme["theme"]).split(" (")[0]
    return str(theme[field])


def _row(name: str, score: dict[str, Any]) -> str:
    core = score["hit_core"] / max(1, score["core"])
    everything = score["hit_all"] / max(1, score["gold"])
    precision = score["true"] / max(1, score["returned"])
    return f"{name[:58]:58} {core:6.3f} {everything:6.3f} {precision:6.3f} {score['returned']:4}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="reuse an ingested data folder")
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument(
        "--field",
        choices=("query", "theme", "name"),
        default="query",
        help="what is sent: the question, the theme with its synonyms, or its name alone",
    )
    parser.add_argument("--show", action="store_true", help="list misses and false positives")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    from fastapi.testclient import TestClient

    from ingest.pipeline import ingest_paths
    from service.api.app import create_app
    from service.container import build_services
    from service.settings import Settings

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="themes-eval-"))
    overrides: dict[str, Any] = {"data_dir": data_dir}
    settings = Settings(**overrides)
    services = build_services(settings)
    if args.data_dir is None:
        report = ingest_paths([ROOT / "corpus"], services.index, progress=False)
        if not report.ok:
            print("ingest failed", report.files, file=sys.stderr)
            return 1
    themes = [json.loads(line) for line in args.gold.read_text().splitlines() if line.strip()]
    totals = {"gold": 0, "core": 0, "returned": 0, "hit_all": 0, "hit_core": 0, "true": 0}
    with TestClient(create_app(settings, services=services)) as client:
        first = time.perf_counter()
        client.post("/themes", json={"theme": sent(themes[0], args.field)}).raise_for_status()
        cold = time.perf_counter() - first
        print(f"{'theme':58} {'core':>6} {'all':>6} {'prec':>6} {'n':>4}")
        for theme in themes:
            body = client.post("/themes", json={"theme": sent(theme, args.field)}).json()
            places = [(group["document"]["source"], place["text"])
                      for group in body["documents"] for place in group["places"]]  # fmt: skip
            score = score_theme(theme["hits"], places)
            for key in totals:
                totals[key] += score[key]
            print(_row(theme["theme"], score))
            if args.show:
                print("   terms:", body["terms"])
                for miss in score["missed"]:
                    print(f"   MISS {miss['kind']:10} {miss['doc'][:24]} {miss['quote'][:90]!r}")
                for doc, text in score["false"]:
                    print(f"   FP   {doc[:24]} {text[:110]!r}")
        timings = []
        for theme in themes * 3:
            start = time.perf_counter()
            client.post("/themes", json={"theme": sent(theme, args.field)}).raise_for_status()
            timings.append(time.perf_counter() - start)
    print(_row("overall", totals))
    print(f"\n/themes latency: cold {cold * 1000:.0f} ms; warm median "
          f"{statistics.median(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms "
          f"({len(timings)} requests)")  # fmt: skip
    print(
        f"command: .venv/bin/python -m bench.themes_eval --field {args.field}"
        + (f" --data-dir {args.data_dir}" if args.data_dir else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
