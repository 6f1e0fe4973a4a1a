"""Archive-sized ingest and latency (issue 21): `../shared/corpus-archive/md` at two sizes.

The archive (2,009 markdown minutes and agendas of one Irish council) is taken in a fixed
shuffled order (`--seed`), so a slice is a mix of minutes and agendas of every district
rather than whatever sorts first. Two sizes, one index that grows:

1. the first `--small-files` files (default 70: about the Kent set's ~1.5k chunks);
2. the first `--files` files (default all): the files of size 1 stay, the rest are added.

Per size it ingests (`ingest_paths`, with its tqdm bar and an ETA on stderr), then times:
the embedder's raw rate (`BundledEmbeddings().embed_documents`, the same loaded model, over
`--sample` of the chunk texts just ingested, as the index embeds them) and ingest chunks/s
against it; where ingest time went (reading, chunking, embedding, Chroma writes, manifest,
keyword index rebuild); a re-ingest of the same files, unchanged (skipped by hash); index
size on disk; peak RSS (sampled from /proc during each phase); and warm `/search` and `/ask`
latency p50/p95 over real HTTP (a real `boardpapers serve` on loopback, a process of its own,
with `--serve-workers` workers; its seconds to answer and peak RSS too) at 1 and at 8
concurrent clients, each client over its own keep-alive connection, cycling through 20
generic council questions `--rounds` times. Figures on stdout as a markdown table per size;
progress on stderr. Prints figures, never passes or fails on them. Not for CI.

    python -m bench.archive [--files N] [--small-files N] [--data-dir DIR] [--archive DIR]
                            [--sample 500] [--rounds 2] [--seed 21] [--torch-threads N]
                            [--parse-workers N] [--embed-batch N] [--serve-workers N]
    python -m bench.archive --serve-only --data-dir DIR [--rounds 2] [--serve-workers N]
                            [--serve-setting BOARDPAPERS_NAME=VALUE ...]

Latency is measured on `boardpapers serve` itself, as it serves by default;
`--serve-only` skips the ingest and times an index already in `--data-dir` at 1, 8 and 32
clients.

`--data-dir` keeps the index (it must be empty or absent: this bench measures a fresh ingest);
otherwise a temp folder is used and removed.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.latency import (
    PROJECT_ROOT,
    dir_size_mb,
    http_search,
    log,
    percentiles,
    print_header,
    run_header,
    set_torch_threads,
    settings_for,
    time_calls,
    torch_threads,
)
from bench.load import SERVE_DEADLINE, rss_mb, server_pid
from service.cli.subprocess_server import boardpapers_serving

ARCHIVE = PROJECT_ROOT.parent / "shared" / "corpus-archive" / "md"

# Generic questions anyone might put to a council's papers; deliberately not a gold set.
QUESTIONS = [
    "What was decided about the housing allocation scheme?",
    "Who chaired the meeting?",
    "What did the committee say about road safety?",
    "Were any grants approved for community groups?",
    "What was agreed about the annual budget?",
    "Which members sent apologies?",
    "What was said about public lighting?",
    "Was there a motion on flooding?",
    "What happened with the planning application?",
    "What did the council decide about the town centre?",
    "Were the minutes of the previous meeting adopted?",
    "What was reported about roads maintenance and the roads programme?",
    "What was discussed about tourism?",
    "Was a vote taken, and what was the result?",
    "What did the chief executive report?",
    "What was said about derelict sites?",
    "What did members ask about water services?",
    "What was agreed about the casual trading bye-laws?",
    "Were there any votes of sympathy?",
    "What was decided about the date of the next meeting?",
]


@contextmanager
def peak_rss(pid: int | None = None, every: float = 0.5) -> Iterator[list[float]]:
    """The RSS (MB) of process `pid` (default this one) and its children (parse workers, a
    server's workers), summed, sampled every `every` s while the block runs, and at its start
    and end; max() is the peak."""
    pid = os.getpid() if pid is None else pid
    samples = [tree_rss_mb(pid)]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(every):
            samples.append(tree_rss_mb(pid))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()
        samples.append(tree_rss_mb(pid))


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants, in MB (shared pages counted in each)."""
    total = 0.0
    try:
        total += rss_mb(pid)
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (OSError, RuntimeError):  # ended meanwhile
        return total
    return total + sum(tree_rss_mb(int(child)) for child in children)


class Stopwatch:
    """Seconds spent in named calls, by wrapping them for the length of a block."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def wrapping(self, owner: Any, attribute: str, name: str) -> Iterator[None]:
        original = getattr(owner, attribute)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        setattr(owner, attribute, timed)
        try:
            yield
        finally:
            if isinstance(owner, type) or not hasattr(type(owner), attribute):
                setattr(owner, attribute, original)
            else:
                delattr(owner, attribute)  # an instance: back to the class's method


@contextmanager
def ingest_stopwatch(index: Any) -> Iterator[Stopwatch]:
    """Time the steps of `ingest_paths` on `index`: reading, blocks, chunking (tokenizer
    counts included), extraction (these four in this process only: with parse workers, the
    time spent waiting for their readings instead), embedding, Chroma writes, manifest
    writes, and the keyword index + glossary refresh at the end. The steps do not overlap."""
    from concurrent.futures import Future

    import ingest.parsing as parsing

    watch = Stopwatch()
    wraps = [
        (parsing, "load_file", "read file"),
        (parsing, "blocks_from_pages", "blocks"),
        (parsing, "chunk_blocks", "chunking"),
        (parsing, "extract", "extraction"),
        (Future, "result", "waiting for parse workers"),
        (index.embeddings, "embed_documents", "embedding"),
        (index.manifest, "stage", "manifest writes"),
        (index.manifest, "publish", "manifest writes"),
        (index, "refresh_keyword_index", "keyword index + glossary rebuild"),
    ]
    with _all_wrapped(watch, wraps):
        yield watch


@contextmanager
def _all_wrapped(watch: Stopwatch, wraps: list[tuple[Any, str, str]]) -> Iterator[None]:
    if not wraps:
        yield
        return
    owner, attribute, name = wraps[0]
    with watch.wrapping(owner, attribute, name), _all_wrapped(watch, wraps[1:]):
        yield


@contextmanager
def chroma_write_timer(index: Any, watch: Stopwatch) -> Iterator[None]:
    """Chroma upserts and deletes timed through the collection `_chroma` yields."""
    original = index._chroma

    @contextmanager
    def timed_chroma() -> Iterator[Any]:
        with original() as collection:
            yield _TimedCollection(collection, watch)

    index._chroma = timed_chroma
    try:
        yield
    finally:
        del index._chroma


class _TimedCollection:
    def __init__(self, collection: Any, watch: Stopwatch) -> None:
        self._collection = collection
        self._watch = watch

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if name not in ("upsert", "delete", "add"):
            return attribute

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return attribute(*args, **kwargs)
            finally:
                self._watch.seconds[f"chroma {name}"] += time.perf_counter() - start

        return timed


def archive_files(archive: Path, seed: int) -> list[Path]:
    files = sorted(p for p in archive.iterdir() if p.is_file() and p.suffix.lower() == ".md")
    random.Random(seed).shuffle(files)
    return files


def raw_embed_rate(services: Any, sample: int, seed: int) -> tuple[int, float]:
    """(texts, passages/s) of `embed_documents` over `sample` live chunk texts as ingest
    embeds them (`context_text()`), in the index's own batch size, model already loaded."""
    chunks = services.index.manifest.live_chunks()
    picked = random.Random(seed).sample(chunks, min(sample, len(chunks)))
    texts = [chunk.context_text() for chunk in picked]
    embeddings = services.index.embeddings
    embeddings.embed_documents(texts[:32])  # warm
    start = time.perf_counter()
    embeddings.embed_documents(texts)
    return len(texts), len(texts) / (time.perf_counter() - start)


def concurrent_latency(
    url: str, route: str, clients: int, rounds: int
) -> tuple[dict[str, float], float]:
    """Each of `clients` threads, over its own connection, sends every question `rounds`
    times (starting at its own offset); the per-request percentiles and requests/s."""
    samples: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    ready = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        call, close = http_search(url, 5, route=route)
        queries = (QUESTIONS[n:] + QUESTIONS[:n]) * rounds
        try:
            ready.wait()
            mine = time_calls(call, queries)
            with lock:
                samples.extend(mine)
        except BaseException as error:  # reported after the join
            errors.append(error)
        finally:
            close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{route} at {clients} clients failed: {errors[0]!r}")
    return percentiles(samples), len(samples) / elapsed


def serve_latency(
    label: str,
    data_dir: Path,
    rounds: int,
    client_counts: tuple[int, ...],
    workers: int,
    settle: float = 30.0,
    served_settings: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`/search` and `/ask` over real HTTP at each count of concurrent clients, from a real
    `boardpapers serve --workers N` over `data_dir` (a process of its own, as an officer's
    service runs; the clients, in this process, do not take its interpreter lock), after one
    warm-up pass, once `settle` seconds have let it finish loading. With the seconds to
    `/healthz` (cold start) and the server's peak RSS, its workers included."""
    settings = {"BOARDPAPERS_WORKERS": str(workers), **(served_settings or {})}
    with tempfile.TemporaryDirectory(prefix="bench-archive-serve-") as tmp:
        log(f"[{label}] starting boardpapers serve ({workers} worker(s))…")
        with boardpapers_serving(
            data_dir, Path(tmp) / "serve.log", timeout=SERVE_DEADLINE, settings=settings
        ) as (url, cold_start_s):
            pid = server_pid(int(url.rsplit(":", 1)[1]))
            # What a service finishes in the background once it answers (its fast model, the
            # theme index) is done before the timing, as on a service up for a while.
            log(f"[{label}] settling for {settle:.0f} s…")
            time.sleep(settle)
            latency: dict[str, tuple[dict[str, float], float]] = {}
            with peak_rss(pid) as rss:
                for route in ("/search", "/ask"):
                    call, close = http_search(url, 5, route=route)
                    try:
                        log(f"[{label}] warm-up {route}…")
                        time_calls(call, QUESTIONS)
                    finally:
                        close()
                    for clients in client_counts:
                        log(f"[{label}] {route} at {clients} client(s)…")
                        latency[f"{route} ×{clients}"] = concurrent_latency(
                            url, route, clients, rounds
                        )
    return {"latency": latency, "cold_start_s": cold_start_s, "rss_mb": max(rss)}


def measure_size(
    label: str, files: list[Path], services: Any, args: argparse.Namespace, embedded_before: int
) -> dict[str, Any]:
    from ingest.pipeline import Outcome, ingest_paths

    index = services.index
    log(f"[{label}] ingesting {len(files)} files ({embedded_before} chunks already in)…")
    with ingest_stopwatch(index) as watch, chroma_write_timer(index, watch), peak_rss() as rss:
        start = time.perf_counter()
        report = ingest_paths(files, index, progress=True, workers=args.parse_workers)
        ingest_s = time.perf_counter() - start
    failed = [f for f in report.files if f.reason]
    for f in failed[:5]:
        log(f"  {f.outcome}: {f.path}: {f.reason}")
    chunks = index.chunk_count()
    embedded = report.embedded_chunks
    log(f"[{label}] {embedded} chunks embedded in {ingest_s:.0f} s; {chunks} live; reingest…")
    with peak_rss() as rss_again:
        start = time.perf_counter()
        again = ingest_paths(files, index, workers=args.parse_workers)
        reingest_s = time.perf_counter() - start
    log(f"[{label}] raw embedder rate over {args.sample} chunk texts…")
    sample_n, raw_rate = raw_embed_rate(services, args.sample, args.seed)
    disk_mb = dir_size_mb(index.settings.data_dir)
    served = serve_latency(
        label, index.settings.data_dir, args.rounds, (1, 8), args.serve_workers,
        served_settings=dict(args.serve_setting),
    )  # fmt: skip
    return {
        "label": label,
        "files": len(files),
        "documents": len(index.documents()),
        "outcomes": {o.value: report.count(o) for o in Outcome},
        "failed": len(failed),
        "chunks": chunks,
        "embedded": embedded,
        "ingest_s": ingest_s,
        "chunks_per_s": embedded / ingest_s if ingest_s else 0.0,
        "raw_rate": raw_rate,
        "raw_sample": sample_n,
        "steps": dict(watch.seconds),
        "reingest_s": reingest_s,
        "reingest_unchanged": again.count(Outcome.UNCHANGED),
        "disk_mb": disk_mb,
        "rss_ingest_mb": max(rss),
        "rss_reingest_mb": max(rss_again),
        "rss_serve_mb": served["rss_mb"],
        "cold_start_s": served["cold_start_s"],
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "latency": served["latency"],
    }


def print_size(figures: dict[str, Any], wall_s: float) -> None:
    f = figures
    print(f"### {f['label']}: {f['files']} files, {f['chunks']} chunks\n")
    print("| figure | value |\n|---|---|")
    rows = [
        ("files ingested (outcomes)", f"{f['files']} ({_outcomes(f['outcomes'])})"),
        ("live documents / chunks", f"{f['documents']} / {f['chunks']}"),
        ("chunks embedded this ingest", f"{f['embedded']}"),
        ("ingest wall time", f"{f['ingest_s']:.1f} s"),
        ("ingest rate", f"{f['chunks_per_s']:.1f} chunks/s"),
        (
            f"raw embedder rate ({f['raw_sample']} of these chunk texts)",
            f"{f['raw_rate']:.1f} passages/s",
        ),
        ("ingest rate / raw embedder rate", f"{f['chunks_per_s'] / f['raw_rate']:.2f}"),
        ("re-ingest, unchanged", f"{f['reingest_s']:.1f} s ({f['reingest_unchanged']} skipped)"),
        ("index size on disk (data folder)", f"{f['disk_mb']:.1f} MB"),
        ("peak RSS: ingest / re-ingest / serving (the server's processes)", _rss(f)),
        ("serve cold start (to /healthz)", f"{f['cold_start_s']:.1f} s"),
        ("ru_maxrss so far (whole process)", f"{f['ru_maxrss_mb']:.0f} MB"),
        ("bench wall time so far", f"{wall_s:.0f} s"),
    ]
    for name, value in rows:
        print(f"| {name} | {value} |")
    steps = sorted(f["steps"].items(), key=lambda item: -item[1])
    accounted = sum(seconds for _, seconds in steps)
    print("\nWhere ingest time went (seconds, of the ingest wall time):\n")
    print("| step | s | share of ingest |\n|---|---|---|")
    for name, seconds in steps:
        print(f"| {name} | {seconds:.1f} | {100 * seconds / f['ingest_s']:.0f}% |")
    rest = f["ingest_s"] - accounted
    print(f"| rest (hashing, ids, metadata, sweep, …) | {rest:.1f} | "
          f"{100 * rest / f['ingest_s']:.0f}% |")  # fmt: skip
    print_latency(f["latency"])


def print_latency(latency: dict[str, tuple[dict[str, float], float]]) -> None:
    print("\nWarm latency over real HTTP (k=5; /ask with its defaults):\n")
    print("| route × clients | n | p50 ms | p95 ms | max ms | req/s |\n|---|---|---|---|---|---|")
    for name, (row, rate) in latency.items():
        print(
            f"| {name} | {row['n']} | {row['p50_ms']} | {row['p95_ms']} | "
            f"{row['max_ms']} | {rate:.1f} |"
        )
    print()


def _outcomes(outcomes: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in outcomes.items() if n)


def _rss(f: dict[str, Any]) -> str:
    return f"{f['rss_ingest_mb']:.0f} / {f['rss_reingest_mb']:.0f} / {f['rss_serve_mb']:.0f} MB"


def main(argv: list[str] | None = None) -> int:
    import ingest.pipeline as pipeline

    parser = argparse.ArgumentParser(
        prog="python -m bench.archive",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--archive", type=Path, default=ARCHIVE)
    parser.add_argument("--small-files", type=int, default=70, help="files in the first size")
    parser.add_argument("--files", type=int, help="files in the larger size (default: all)")
    parser.add_argument("--data-dir", type=Path, help="ingest here and keep it (empty/absent)")
    parser.add_argument("--sample", type=int, default=500, help="chunk texts for the raw rate")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the questions")
    parser.add_argument("--seed", type=int, default=21, help="order of the archive's files")
    parser.add_argument("--torch-threads", type=int, help="torch intra-op threads to use")
    parser.add_argument(
        "--parse-workers", type=int,
        help="processes reading files ahead of the embedder (default: as the pipeline chooses)",
    )  # fmt: skip
    parser.add_argument(
        "--embed-batch", type=int, default=pipeline.EMBED_BATCH,
        help="chunks embedded per model call across files (default: the pipeline's)",
    )  # fmt: skip
    parser.add_argument(
        "--serve-only", action="store_true",
        help="no ingest: time /search and /ask at 1, 8 and 32 clients on --data-dir's index",
    )  # fmt: skip
    parser.add_argument(
        "--serve-setting", action="append", default=[], metavar="NAME=VALUE", type=served_setting,
        help="a setting of the served process, as its environment variable"
        " (BOARDPAPERS_SERVE_EMBEDDING_INT8=true); repeatable",
    )  # fmt: skip
    parser.add_argument(
        "--serve-workers", type=int, default=1,
        help="worker processes of the `boardpapers serve` timed (default 1, its default)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    pipeline.EMBED_BATCH = args.embed_batch
    set_torch_threads(args.torch_threads)
    if args.serve_only:
        if args.data_dir is None or not (args.data_dir / "manifest.sqlite3").exists():
            parser.error("--serve-only needs --data-dir holding an ingested index")
        return serve_only(args.data_dir, args.rounds, args.serve_workers, dict(args.serve_setting))
    if args.data_dir is not None and args.data_dir.exists() and any(args.data_dir.iterdir()):
        parser.error(f"{args.data_dir} is not empty: this bench measures a fresh ingest")

    files = archive_files(args.archive, args.seed)
    large = len(files) if args.files is None else min(args.files, len(files))
    sizes = [min(args.small_files, large)]
    if large > sizes[0]:
        sizes.append(large)
    header = run_header()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        data_dir = args.data_dir or Path(tmp) / "boardpapers"
        from service.container import build_services

        services = build_services(settings_for(data_dir))
        log("loading the embedding model…")
        services.index.embeddings.embed_documents(["warm"])
        results: list[tuple[dict[str, Any], float]] = []
        embedded_before = 0
        for number, size in enumerate(sizes):
            label = "Kent-sized slice" if number == 0 else f"{size} files"
            if size == len(files):
                label += " (whole archive)"
            figures = measure_size(label, files[:size], services, args, embedded_before)
            embedded_before = figures["chunks"]
            results.append((figures, time.perf_counter() - start))
        print_header(header)
        print(
            f"Archive `{args.archive}` ({len(files)} files), shuffled with seed {args.seed}; "
            f"sizes run: {', '.join(map(str, sizes))} files, one growing index at {data_dir}"
            f"{'' if args.data_dir else ' (temp, removed)'}; torch threads {torch_threads()}; "
            f"parse workers {_chosen(args.parse_workers)}; "
            f"embedding batch {args.embed_batch} chunks; "
            f"{len(QUESTIONS)} generic questions × {args.rounds} rounds per client.\n"
        )
        for figures, wall in results:
            print_size(figures, wall)
        if len(results) > 1:
            print_growth([figures for figures, _ in results])
    return 0


def served_setting(pair: str) -> tuple[str, str]:
    """One `--serve-setting NAME=VALUE`, as an environment variable and its value."""
    name, equals, value = pair.partition("=")
    if not name.startswith("BOARDPAPERS_") or not equals:
        raise argparse.ArgumentTypeError(
            f"{pair!r}: give a setting as its variable and value, BOARDPAPERS_NAME=VALUE"
        )
    return name, value


def serve_only(
    data_dir: Path, rounds: int, workers: int, settings: dict[str, str] | None = None
) -> int:
    """Latency at 1, 8 and 32 clients on an index already ingested (the archive's, say)."""
    from service.container import build_services

    header = run_header()
    services = build_services(settings_for(data_dir))
    label = f"{services.index.chunk_count()} chunks"
    documents = len(services.index.documents())
    served = serve_latency(label, data_dir, rounds, (1, 8, 32), workers, served_settings=settings)
    print_header(header)
    chosen = "".join(f", {name}={value}" for name, value in (settings or {}).items())
    print(f"Index {data_dir} ({label}, {documents} documents); `boardpapers serve` with "
          f"{workers} worker(s){chosen}: ready in {served['cold_start_s']:.1f} s, peak RSS "
          f"{served['rss_mb']:.0f} MB; "
          f"{len(QUESTIONS)} generic questions × {rounds} rounds per client.\n")  # fmt: skip
    print_latency(served["latency"])
    return 0


def _chosen(workers: int | None) -> str:
    return "as the pipeline chooses (parse_workers)" if workers is None else str(workers)


def print_growth(results: list[dict[str, Any]]) -> None:
    small, big = results[0], results[-1]
    times = big["chunks"] / small["chunks"] if small["chunks"] else 0.0
    print(f"### Growth: {small['chunks']} → {big['chunks']} chunks (×{times:.1f})\n")
    print("| figure | small | large | ratio |\n|---|---|---|---|")
    pairs: list[tuple[str, Callable[[dict[str, Any]], float]]] = [
        ("ingest chunks/s", lambda f: f["chunks_per_s"]),
        ("keyword index rebuild s", lambda f: f["steps"].get(_KW, 0.0)),
        ("re-ingest unchanged s", lambda f: f["reingest_s"]),
        ("disk MB", lambda f: f["disk_mb"]),
        ("peak RSS serving MB", lambda f: f["rss_serve_mb"]),
        *(
            (f"{name} p50 ms", _p50(name))
            for name in ("/search ×1", "/search ×8", "/ask ×1", "/ask ×8")
        ),
    ]
    for name, get in pairs:
        a, b = get(small), get(big)
        print(f"| {name} | {a:.1f} | {b:.1f} | {b / a if a else 0.0:.2f} |")
    print()


_KW = "keyword index + glossary rebuild"


def _p50(name: str) -> Callable[[dict[str, Any]], float]:
    return lambda f: float(f["latency"][name][0]["p50_ms"])


if __name__ == "__main__":
    raise SystemExit(main())
