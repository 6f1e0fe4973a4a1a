"""Warm `/search` and `/ask` latency over real HTTP: a real uvicorn on loopback, in this process.

Issue 3 asks for warm `/search` p50 ≤ 50 ms and p95 ≤ 150 ms on the 2-core machine, issue 17
warm `/ask` p50 ≤ 150 ms. This serves `create_app` from a thread on a free loopback port,
sends one warm-up pass of the questions, then times `--requests` POSTs cycling through them
(to `/search`, then to `/ask` with its defaults), and times the same queries through
`retriever.search` directly so the HTTP share is visible. Prints figures, never
passes or fails on them.

    python -m bench.latency [--data-dir DIR] [--requests 200] [--k 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import cycle, islice
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT_ROOT / "corpus"
DEV_QUESTIONS = PROJECT_ROOT.parent / "shared" / "eval" / "questions-dev.jsonl"


_THREADING_ENV = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS", "GOMP_SPINCOUNT")


def log(message: str) -> None:
    """Progress goes to stderr so stdout holds only the figures."""
    print(message, file=sys.stderr, flush=True)


def run_header() -> dict[str, Any]:
    """The command, date and machine a set of figures belongs to."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or cpu
    return {
        "command": shlex.join(sys.orig_argv),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        # Other work on the machine skews timings; the 1-minute load average says how much.
        "load_average": os.getloadavg()[0],
        # Set outside the command line, these change torch's threading and so every timing.
        "environment": {k: os.environ[k] for k in _THREADING_ENV if k in os.environ},
    }


def print_header(header: dict[str, Any]) -> None:
    environment = " ".join(f"{k}={v}" for k, v in header["environment"].items())
    print(f"$ {environment + ' ' if environment else ''}{header['command']}")
    print(
        f"{header['date']} · {header['cpu']} · {header['cores']} cores · "
        f"Python {header['python']} · load average {header['load_average']:.2f}\n"
    )


def print_json_or_header(figures: dict[str, Any], header: dict[str, Any], *, as_json: bool) -> bool:
    """The figures as JSON when `as_json` (True: nothing more to print), else the run's header,
    above the table the bench prints itself (False)."""
    if as_json:
        print(json.dumps(figures, indent=2))
        return True
    print_header(header)
    return False


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    points = samples_ms * 2 if len(samples_ms) < 2 else samples_ms  # quantiles need two
    cuts = statistics.quantiles(points, n=100, method="inclusive")
    return {
        "n": len(samples_ms),
        "p50_ms": round(statistics.median(samples_ms), 1),
        "p95_ms": round(cuts[94], 1),
        "max_ms": round(max(samples_ms), 1),
    }


def time_calls(call: Callable[[str], object], queries: list[str]) -> list[float]:
    """Milliseconds each call took, in order."""
    samples: list[float] = []
    for query in queries:
        start = time.perf_counter()
        call(query)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def set_torch_threads(threads: int | None) -> None:
    """Pin torch's intra-op threads (None: torch's default, one per core). One short query
    gains little from two threads, and on a busy machine their barriers wait for a core."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


def dir_size_mb(folder: Path) -> float:
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return round(size / 1e6, 2)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` served by a real uvicorn on a free loopback port in a thread; yields its URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def http_search(
    base_url: str, k: int, route: str = "/search", key: str | None = None
) -> tuple[Callable[[str], object], Callable[[], None]]:
    """A `/search` (or, with `route="/ask"`, an `/ask` with its defaults) caller over one
    keep-alive connection, sending `key` as its bearer when given, and its closer."""
    import httpx

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    client = httpx.Client(base_url=base_url, timeout=60, headers=headers)

    def call(query: str) -> object:
        body = {"query": query, "k": k} if route == "/search" else {"question": query}
        response = client.post(route, json=body)
        response.raise_for_status()
        return response.json()

    return call, client.close


def settings_for(data_dir: Path) -> Any:
    """The service settings (env and .env as usual) with the data folder given."""
    from service.settings import Settings

    # Passed as a mapping: without pydantic's mypy plugin, mypy takes every field as required.
    overrides: dict[str, Any] = {"data_dir": data_dir}
    return Settings(**overrides)


def ingested_services(data_dir: Path | None, workdir: Path) -> tuple[Any, float | None]:
    """Services over `data_dir` as it is, or over the sample corpus ingested into `workdir`;
    with the seconds ingesting took (None when an index was reused)."""
    from ingest.pipeline import ingest_paths
    from service.container import build_services

    services = build_services(settings_for(data_dir or workdir / "boardpapers"))
    if data_dir is not None:
        return services, None
    log(f"ingesting {CORPUS} (pass --data-dir to reuse an index)…")
    start = time.perf_counter()
    report = ingest_paths([CORPUS], services.index)
    if not report.ok:
        raise SystemExit(f"ingest failed: {[f.reason for f in report.files if f.reason]}")
    return services, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.latency",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", type=Path, help="an ingested data folder to reuse")
    parser.add_argument("--questions", type=Path, default=DEV_QUESTIONS)
    parser.add_argument("--requests", type=int, default=200, help="timed requests")
    parser.add_argument("--k", type=int, default=5, help="passages per search")
    parser.add_argument("--torch-threads", type=int, help="torch intra-op threads to use")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    set_torch_threads(args.torch_threads)

    from service.api.app import create_app
    from service.evaluation import load_questions

    header = run_header()
    queries = [q["question"] for q in load_questions(args.questions)]
    timed = list(islice(cycle(queries), args.requests))
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        services, ingest_seconds = ingested_services(args.data_dir, Path(tmp))
        chunks = services.index.chunk_count()
        with serving(create_app(services.settings, services=services)) as url:
            search, close = http_search(url, args.k)
            ask, close_ask = http_search(url, args.k, "/ask")
            try:
                time_calls(search, queries)  # warm-up: model, caches, connection
                http = percentiles(time_calls(search, timed))
                time_calls(ask, queries)
                http_ask = percentiles(time_calls(ask, timed))
            finally:
                close()
                close_ask()
        direct = percentiles(time_calls(lambda q: services.retriever.search(q, k=args.k), timed))
    figures = {
        **header,
        "chunks": chunks,
        "torch_threads": torch_threads(),
        "ingest_seconds": None if ingest_seconds is None else round(ingest_seconds, 1),
        "http_search": http,
        "http_ask": http_ask,
        "retriever_search": direct,
        "target": {"p50_ms": 50, "p95_ms": 150},
    }
    if print_json_or_header(figures, header, as_json=args.json):
        return 0
    print(
        f"{chunks} chunks; {len(queries)} questions, one warm-up pass, then "
        f"{args.requests} timed requests, k={args.k}, torch threads {torch_threads()}\n"
    )
    print("| path | n | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|")
    for name, row in (
        ("HTTP POST /search (uvicorn, loopback)", http),
        ("HTTP POST /ask, extractive (uvicorn, loopback)", http_ask),
        ("retriever.search (in process)", direct),
    ):
        print(f"| {name} | {row['n']} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} |")
    met = http["p50_ms"] <= 50 and http["p95_ms"] <= 150
    print(f"\nTarget (issue 3): p50 ≤ 50 ms, p95 ≤ 150 ms — {'met' if met else 'NOT met'}.")
    met_ask = http_ask["p50_ms"] <= 150
    print(f"Target (issue 17): /ask p50 ≤ 150 ms — {'met' if met_ask else 'NOT met'}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
