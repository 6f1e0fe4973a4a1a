"""Load and memory of a real `boardpapers serve` (issue 19, item 6).

1. Serves a copy of an ingested data folder (`--data-dir`, else `corpus/` ingested into a temp
   folder first) with `boardpapers serve`, a process of its own, and warms it up.
2. Load: `--clients` (8) clients, each over its own keep-alive connection, alternate `POST /ask`
   and `POST /search` through the dev questions for `--seconds` (60), while `boardpapers sync`
   (another process) adds `--papers` (60) papers to the same data folder: copies of the real
   PDFs in `corpus/` and `../shared/corpus-kent/pdf`, each a few bytes different so each is a
   paper of its own. Counts requests, errors (anything but 200 and 503, or no reply), 503s
   (a request that found every work slot busy for BOARDPAPERS_WORK_WAIT_SECONDS), p50/p95.
3. Memory, once the sync has finished: the server's RSS after a warm-up pass over the grown
   index ("warm"), right after a burst of `--burst` (32) clients asking at once, and after
   `--settle` (30) idle seconds; says whether it came back within 20% of warm.

Prints figures, never passes or fails on them.

    python -m bench.load [--data-dir DIR] [--clients 8] [--seconds 60] [--papers 60]
                         [--burst 32] [--settle 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from itertools import cycle
from pathlib import Path
from typing import Any

from bench.latency import (
    CORPUS,
    DEV_QUESTIONS,
    PROJECT_ROOT,
    log,
    percentiles,
    print_json_or_header,
    run_header,
)
from service.cli.subprocess_server import (
    boardpapers_command,
    boardpapers_serving,
    clean_environment,
)

KENT_PDFS = PROJECT_ROOT.parent / "shared" / "corpus-kent" / "pdf"
# Papers up to this size: the sync should run alongside the load, not for half an hour.
SMALL_PAPER_BYTES = 300_000
SERVE_DEADLINE = 300.0  # seconds to answer /healthz: a guard against hanging
SYNC_DEADLINE = 1800.0


def questions(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def make_papers(folder: Path, count: int) -> list[Path]:
    """`count` papers in `folder`: the small real PDFs, over and over, each copy with a PDF
    comment after its end so its bytes (and so its version) are its own."""
    sources = [
        pdf
        for pdf in sorted(CORPUS.glob("*.pdf")) + sorted(KENT_PDFS.glob("*.pdf"))
        if pdf.stat().st_size <= SMALL_PAPER_BYTES
    ]
    if not sources:
        raise SystemExit(f"no PDFs found in {CORPUS} or {KENT_PDFS}")
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for n, source in zip(range(count), cycle(sources), strict=False):
        target = folder / f"load-{n:02d}-{source.name}"
        target.write_bytes(source.read_bytes() + f"\n% bench.load copy {n}\n".encode())
        made.append(target)
    return made


def server_pid(port: int) -> int:
    """The process of `boardpapers serve` listening on `port` (its command line names it)."""
    wanted = ["--port", str(port)]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        if "serve" in argv and any(argv[i : i + 2] == wanted for i in range(len(argv))):
            return int(entry.name)
    raise RuntimeError(f"no `boardpapers serve` process on port {port}")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class Tally:
    """What the clients saw, per route."""

    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, status: int | None, ms: float, error: str = "") -> None:
        with self.lock:
            self.statuses[f"{route} {status or 'no reply'}"] += 1
            if status == 200:
                self.latencies_ms.setdefault(route, []).append(ms)
            elif status != 503:
                self.errors.append(f"{route}: {status or 'no reply'} {error}"[:300])

    def count(self, status: int | None = None) -> int:
        ending = f" {status}" if status is not None else ""
        return sum(n for key, n in self.statuses.items() if key.endswith(ending))


def post(client: Any, route: str, query: str, tally: Tally) -> None:
    import httpx

    body = {"question": query} if route == "/ask" else {"query": query, "k": 5}
    start = time.perf_counter()
    try:
        reply = client.post(route, json=body)
    except httpx.HTTPError as exc:
        tally.record(route, None, 0.0, f"{type(exc).__name__}: {exc}")
        return
    ms = (time.perf_counter() - start) * 1000
    tally.record(route, reply.status_code, ms, reply.text)


def load(url: str, clients: int, seconds: float, queries: list[str], tally: Tally) -> None:
    """`clients` threads alternating /ask and /search until `seconds` have passed."""
    import httpx

    deadline = time.monotonic() + seconds

    def client_loop(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            routes = cycle(["/ask", "/search"])
            for query in cycle(queries[offset:] + queries[:offset]):
                if time.monotonic() >= deadline:
                    return
                post(client, next(routes), query, tally)

    threads = [threading.Thread(target=client_loop, args=(n * 3,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def burst(url: str, clients: int, asks_each: int, queries: list[str]) -> Tally:
    """`clients` clients each asking `asks_each` questions at once."""
    import httpx

    tally = Tally()
    ready = threading.Barrier(clients)

    def one(n: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            ready.wait()
            for k in range(asks_each):
                post(client, "/ask", queries[(n * asks_each + k) % len(queries)], tally)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


@contextmanager
def sampling(pid: int, every: float = 1.0) -> Iterator[list[float]]:
    """The server's RSS (MB), sampled every `every` seconds while the block runs."""
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(every):
            samples.append(rss_mb(pid))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()


def ingested_copy(data_dir: Path | None, workdir: Path) -> Path:
    """A data folder to serve: a copy of `data_dir`, or `corpus/` ingested afresh."""
    target = workdir / "data"
    if data_dir is not None:
        shutil.copytree(data_dir, target)
        return target
    log(f"ingesting {CORPUS} (pass --data-dir to start from an ingested folder)…")
    done = subprocess.run(
        [*boardpapers_command(), "--data-dir", str(target), "ingest", "--quiet", str(CORPUS)],
        env=clean_environment(), capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"ingest failed:\n{done.stdout}\n{done.stderr}")
    return target


def warm_pass(url: str, queries: list[str]) -> None:
    import httpx

    with httpx.Client(base_url=url, timeout=120) as client:
        for query in queries:
            client.post("/search", json={"query": query, "k": 5})
            client.post("/ask", json={"question": query})


def document_count(data_dir: Path) -> int:
    """Live papers in the data folder's manifest (read-only: /healthz shows them to admins)."""
    uri = f"file:{data_dir / 'manifest.sqlite3'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as manifest:
        return int(manifest.execute("SELECT COUNT(*) FROM documents").fetchone()[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", type=Path, help="an ingested data folder (copied)")
    parser.add_argument("--questions", type=Path, default=DEV_QUESTIONS)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--papers", type=int, default=60, help="papers the sync adds")
    parser.add_argument("--burst", type=int, default=32, help="clients asking at once")
    parser.add_argument("--burst-asks", type=int, default=2, help="questions each asks")
    parser.add_argument("--settle", type=float, default=30.0, help="idle seconds after it")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)

    header = run_header()
    queries = questions(args.questions)
    with tempfile.TemporaryDirectory(prefix="bench-load-", ignore_cleanup_errors=True) as tmp:
        workdir = Path(tmp)
        data_dir = ingested_copy(args.data_dir, workdir)
        papers = make_papers(workdir / "papers", args.papers)
        log(f"serving {data_dir}…")
        with boardpapers_serving(
            data_dir, workdir / "serve.log", timeout=SERVE_DEADLINE, cwd=workdir
        ) as (url, _):
            pid = server_pid(int(url.rsplit(":", 1)[1]))
            documents_before = document_count(data_dir)
            warm_pass(url, queries)
            rss_start = rss_mb(pid)

            log(f"load: {args.clients} clients for {args.seconds:.0f} s, syncing {len(papers)}…")
            sync_log = (workdir / "sync.log").open("w")
            sync_started = time.monotonic()
            sync = subprocess.Popen(
                [*boardpapers_command(), "--data-dir", str(data_dir), "sync", "--quiet",
                 str(workdir / "papers")],
                env=clean_environment(), cwd=workdir, stdout=sync_log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            tally = Tally()
            with sampling(pid) as during_load:
                load(url, args.clients, args.seconds, queries, tally)
            sync_running_after_load = sync.poll() is None
            log("waiting for the sync to finish…")
            try:
                sync_status = sync.wait(timeout=SYNC_DEADLINE)
            except subprocess.TimeoutExpired:
                sync.kill()
                sync_status = sync.wait()
            sync_seconds = time.monotonic() - sync_started
            sync_log.close()
            documents_after = document_count(data_dir)

            log("memory: warm-up over the grown index, burst, settle…")
            warm_pass(url, queries)
            time.sleep(2)
            rss_warm = rss_mb(pid)
            burst_tally = burst(url, args.burst, args.burst_asks, queries)
            rss_burst = rss_mb(pid)
            settling: list[float] = []
            settle_deadline = time.monotonic() + args.settle
            while time.monotonic() < settle_deadline:
                time.sleep(min(5.0, args.settle))
                settling.append(rss_mb(pid))
            rss_settled = settling[-1] if settling else rss_mb(pid)
        sync_tail = (workdir / "sync.log").read_text()[-1500:]

    routes = {route: percentiles(ms) for route, ms in sorted(tally.latencies_ms.items())}
    figures: dict[str, Any] = {
        **header,
        "clients": args.clients,
        "seconds": args.seconds,
        "requests": tally.count(),
        "errors": len(tally.errors),
        "error_samples": tally.errors[:5],
        "busy_503": tally.count(503),
        "routes": routes,
        "sync": {
            "papers": len(papers),
            "exit_status": sync_status,
            "seconds": round(sync_seconds, 1),
            "still_running_when_load_ended": sync_running_after_load,
            "documents_before": documents_before,
            "documents_after": documents_after,
        },
        "burst": {
            "clients": args.burst,
            "asks": burst_tally.count(),
            "errors": len(burst_tally.errors),
            "busy_503": burst_tally.count(503),
        },
        "rss_mb": {
            "before_load": rss_start,
            "peak_during_load": max(during_load, default=rss_start),
            "warm": rss_warm,
            "after_burst": rss_burst,
            "settled": rss_settled,
            "settling_samples": settling,
        },
        "settled_within_20_percent_of_warm": rss_settled <= rss_warm * 1.2,
    }
    if print_json_or_header(figures, header, as_json=args.json):
        return 0
    still = ", still running when the load ended" if sync_running_after_load else ""
    print(
        f"Load: {args.clients} clients × {args.seconds:.0f} s alternating /ask and /search "
        f"({len(queries)} dev questions), while `boardpapers sync` added {len(papers)} papers "
        f"({documents_before} → {documents_after} documents; sync exit {sync_status}, "
        f"{sync_seconds:.0f} s{still}).\n"
    )
    print(f"requests {tally.count()} · errors {len(tally.errors)} · 503 busy {tally.count(503)}")
    for sample in tally.errors[:5]:
        print(f"  error: {sample}")
    print("\n| route | n (200) | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|")
    for route, row in routes.items():
        print(f"| {route} | {row['n']} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} |")
    print(
        f"\nBurst: {args.burst} clients × {args.burst_asks} /ask at once: "
        f"{burst_tally.count(200)} answered, {burst_tally.count(503)} × 503, "
        f"{len(burst_tally.errors)} errors."
    )
    if tally.count(503) or burst_tally.count(503):
        print(
            "503s are requests that found every work slot (BOARDPAPERS_WORK_SLOTS) busy for "
            "BOARDPAPERS_WORK_WAIT_SECONDS and were told to retry (Retry-After): by design, "
            "rather than queueing for minutes; not counted as errors."
        )
    verdict = "yes" if figures["settled_within_20_percent_of_warm"] else "NO"
    print(
        f"\nServer RSS (MB): before load {rss_start} · peak during load and sync "
        f"{figures['rss_mb']['peak_during_load']} · warm (after the sync, over the grown "
        f"index) {rss_warm} · after burst {rss_burst} · settled ({args.settle:.0f} s) "
        f"{rss_settled}.\nSettled within 20% of warm: {verdict} "
        f"({(rss_settled / rss_warm - 1) * 100:+.0f}%)."
    )
    if sync_status != 0:
        print(f"\nThe sync exited {sync_status}; the end of its output:\n{sync_tail}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    raise SystemExit(main())
