"""Time extractive summaries of the whole sample corpus (no LLM).

Issue 6 asks for ≤ 60 s to summarise the sample corpus without an LLM. This ingests the corpus
into a fresh data folder (or uses `--data-dir` as it is), then summarises every paper into a
fresh summary store, so nothing is reused, and writes the Markdown, JSON and digest. Prints
the figures and the command; never passes or fails on them.

    python -m bench.summarise [--data-dir DIR] [--out DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

from ingest.pipeline import ingest_paths
from service.container import build_services
from service.settings import Settings
from service.summaries.batch import summarise_documents
from service.summaries.extractive import ExtractiveSummariser
from service.summaries.store import SummaryStore


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="an index to use as it is")
    parser.add_argument("--out", type=Path, help="where to write the summaries")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="bench-summarise-"))
    settings = Settings.model_validate({"data_dir": args.data_dir or scratch / "data"})
    services = build_services(settings)
    figures: dict[str, object] = {}
    if args.data_dir is None:
        started = time.perf_counter()
        report = ingest_paths([settings.corpus_dir], services.index)
        figures["ingest_seconds"] = round(time.perf_counter() - started, 1)
        figures["ingest_ok"] = report.ok
    doc_ids = [d.meta.doc_id for d in services.index.documents()]
    pages = sum(d.pages for d in services.index.documents())

    store = SummaryStore(scratch / "summaries.sqlite3")  # fresh: every summary is computed
    summariser = ExtractiveSummariser(services.index, settings)
    started = time.perf_counter()
    batch = summarise_documents(
        doc_ids, services.index, summariser, store, args.out or scratch / "out"
    )
    elapsed = time.perf_counter() - started

    figures.update(
        {
            "papers": len(doc_ids),
            "pages": pages,
            "summarise_seconds": round(elapsed, 2),
            "seconds_per_paper": round(elapsed / max(1, len(doc_ids)), 2),
            "failed": batch.failed,
            "key_points": sum(len(s.key_points) for s in batch.summaries),
            "decisions": sum(len(s.decisions) for s in batch.summaries),
            "target_seconds": 60,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}",
            "output": str(batch.digest.parent if batch.digest else ""),
            "command": "python -m bench.summarise " + shlex.join(sys.argv[1:]),
        }
    )
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:20} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
