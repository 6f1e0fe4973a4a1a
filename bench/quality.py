"""Retrieval quality, ingest cost, index size and warm latency, side by side on one corpus.

Three systems over the same PDFs, in one process, sharing one loaded embedding model
(`BundledEmbeddings`; Chroma never embeds anything itself):

- LangChain's stock recipe: `PyPDFLoader` per PDF, `RecursiveCharacterTextSplitter(1000, 200)`,
  `langchain_chroma.Chroma` embedded in a temp dir, similarity search top k;
- plain BM25 (bm25s, English stop words and Snowball stemmer) over the stock recipe's chunks;
- boardpapers: `build_services` + `ingest_paths` + `retriever.search`, and `/search` over HTTP;
- with `--reranker KIND --reranker-model DIR`, boardpapers again on the same index with that
  second stage, to weigh its gain against its cost per query.

Scored by `service.evaluation` (the shared rule). Prints figures, never passes or fails.

    python -m bench.quality [--questions FILE] [--k 5 10] [--data-dir DIR] [--json]
        [--reranker {cross-encoder,bi-encoder} --reranker-model DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.latency import (
    CORPUS,
    DEV_QUESTIONS,
    dir_size_mb,
    http_search,
    log,
    percentiles,
    print_header,
    run_header,
    serving,
    set_torch_threads,
    settings_for,
    time_calls,
    torch_threads,
)
from service.evaluation import Answer, Passage, answer_of, evaluate, load_questions

Retrieve = Callable[[str, int], list[Passage]]


@dataclass
class System:
    name: str
    retrieve: Retrieve
    chunks: int
    ingest_seconds: float | None  # None: an existing index was reused
    index_mb: float
    figures: dict[str, Any] = field(default_factory=dict)


def stock_recipe(corpus: Path, embeddings: Any, workdir: Path) -> tuple[System, list[Any], float]:
    """LangChain's stock recipe; also returns its chunks and the seconds loading and
    splitting took, which the BM25 baseline shares."""
    from chromadb.config import Settings as ChromaSettings

    try:
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        with warnings.catch_warnings():
            # The recipe under test names this loader; the package's sunset notice is noise.
            warnings.simplefilter("ignore", DeprecationWarning)
            from langchain_community.document_loaders import PyPDFLoader
    except ImportError as exc:  # the baseline's packages are not boardpapers dependencies
        raise SystemExit(
            f"{exc}. The baseline needs: .venv/bin/pip install langchain-community "
            "langchain-chroma langchain-text-splitters"
        ) from exc

    start = time.perf_counter()
    pages = [page for pdf in sorted(corpus.glob("*.pdf")) for page in PyPDFLoader(str(pdf)).load()]
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    documents = splitter.split_documents(pages)
    split_seconds = time.perf_counter() - start
    store = Chroma(
        collection_name="stock",
        embedding_function=embeddings,  # LangChain embeds with our model, never Chroma
        persist_directory=str(workdir / "stock-chroma"),
        client_settings=ChromaSettings(anonymized_telemetry=False),
    )
    store.add_documents(documents)
    seconds = time.perf_counter() - start

    def retrieve(question: str, k: int) -> list[Passage]:
        found = store.similarity_search(question, k=k)
        return [Passage(Path(d.metadata["source"]).stem, d.page_content) for d in found]

    size = dir_size_mb(workdir / "stock-chroma")
    system = System("LangChain stock recipe", retrieve, len(documents), seconds, size)
    return system, documents, split_seconds


def bm25_baseline(documents: list[Any], split_seconds: float, workdir: Path) -> System:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    start = time.perf_counter()
    tokens = bm25s.tokenize(
        [d.page_content for d in documents], stopwords="en", stemmer=stemmer, show_progress=False
    )
    model = bm25s.BM25()
    model.index(tokens, show_progress=False)
    seconds = split_seconds + time.perf_counter() - start
    model.save(str(workdir / "bm25"), show_progress=False)

    def retrieve(question: str, k: int) -> list[Passage]:
        query = bm25s.tokenize(
            question, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
        )[0]
        query = [token for token in query if token in model.vocab_dict]
        if not query:
            return []
        ids, scores = model.retrieve([query], k=min(k, len(documents)), show_progress=False)
        found = [documents[i] for i, s in zip(ids[0], scores[0], strict=True) if s > 0]
        return [Passage(Path(d.metadata["source"]).stem, d.page_content) for d in found]

    size = dir_size_mb(workdir / "bm25")
    return System("BM25 (bm25s) on stock chunks", retrieve, len(documents), seconds, size)


def boardpapers(
    corpus: Path, embeddings: Any, data_dir: Path | None, workdir: Path
) -> tuple[System, Any]:
    from ingest.pipeline import ingest_paths
    from service.container import build_services

    folder = data_dir or workdir / "boardpapers"
    services = build_services(settings_for(folder), embeddings=embeddings)
    seconds: float | None = None
    if data_dir is None:
        start = time.perf_counter()
        report = ingest_paths([corpus], services.index)
        seconds = time.perf_counter() - start
        if not report.ok:
            raise SystemExit(f"ingest failed: {[f.reason for f in report.files if f.reason]}")
    elif not services.index.chunk_count():
        raise SystemExit(f"{data_dir} holds no ingested papers; ingest first or drop --data-dir")

    def retrieve(question: str, k: int) -> list[Passage]:
        hits = services.retriever.search(question, k=k)
        return [Passage(Path(h.chunk.meta.source).stem, h.text) for h in hits]

    chunks = services.index.chunk_count()
    return System("boardpapers", retrieve, chunks, seconds, dir_size_mb(folder)), services


def boardpapers_reranked(services: Any, kind: str, model: Path) -> System:
    """The same index and settings, with a reranker as second stage."""
    from service.container import build_services

    settings = services.settings.model_copy(update={"reranker": kind, "reranker_model": model})
    reranked = build_services(settings, embeddings=services.index.embeddings)

    def retrieve(question: str, k: int) -> list[Passage]:
        hits = reranked.retriever.search(question, k=k)
        return [Passage(Path(h.chunk.meta.source).stem, h.text) for h in hits]

    name = f"boardpapers + {kind} reranker ({model.name}, top {settings.rerank_depth})"
    size = round(dir_size_mb(settings.data_dir) + dir_size_mb(model), 2)
    return System(name, retrieve, reranked.index.chunk_count(), None, size)


def score(
    system: System,
    questions: list[dict[str, Any]],
    ks: list[int],
    answered: Callable[[str], Answer] | None = None,
) -> None:
    """Every k scored on one ranked list per question, asked for the deepest k."""
    report = evaluate(questions, lambda q, n: system.retrieve(q, n), ks, answered)
    figures = report.figures()
    first = min(ks)
    system.figures["questions"] = figures["questions"]
    for key, value in figures.items():
        if "@" in key:
            system.figures[key] = value
    system.figures[f"hit@{first}_by_type"] = report.by_type(first)
    if answered is not None:
        system.figures["refusals"] = {
            key: figures[key]
            for key in ("unanswerable", "unanswerable_refused", "answerable_answered_share")
        }


def measure(
    system: System,
    questions: list[dict[str, Any]],
    ks: list[int],
    repeats: int,
    answered: Callable[[str], Answer] | None = None,
) -> None:
    log(f"scoring and timing {system.name}…")
    score(system, questions, ks, answered)
    queries = [q["question"] for q in questions]
    system.figures["latency"] = warm_latency(lambda q: system.retrieve(q, ks[0]), queries, repeats)


def warm_latency(call: Callable[[str], object], queries: list[str], repeats: int) -> dict[str, Any]:
    time_calls(call, queries)  # warm-up pass
    return percentiles(time_calls(call, queries * repeats))


def markdown(systems: list[System], ks: list[int]) -> str:
    k = ks[0]
    recall = [f"evidence_recall@{n}" for n in ks]
    columns = [f"hit@{k}", f"all@{k}", *recall, f"mrr@{k}"]
    head = ["system", "chunks", *columns, "ingest s", "index MB", "p50 ms", "p95 ms"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in systems:
        ingest = "reused" if s.ingest_seconds is None else f"{s.ingest_seconds:.1f}"
        latency = s.figures["latency"]
        row = [
            s.name,
            str(s.chunks),
            *(str(s.figures[c]) for c in columns),
            ingest,
            str(s.index_mb),
            str(latency["p50_ms"]),
            str(latency["p95_ms"]),
        ]
        lines.append("| " + " | ".join(row) + " |")
    types = sorted({t for s in systems for t in s.figures[f"hit@{k}_by_type"]})
    lines += [
        "",
        f"hit@{k} by question type:",
        "",
        "| system | " + " | ".join(types) + " |",
        "|" + "---|" * (len(types) + 1),
    ]
    for s in systems:
        by_type = s.figures[f"hit@{k}_by_type"]
        lines.append(f"| {s.name} | " + " | ".join(str(by_type.get(t, "")) for t in types) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.quality",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--questions", type=Path, default=DEV_QUESTIONS, help="gold JSONL")
    parser.add_argument(
        "--k",
        type=int,
        nargs="+",
        default=[5, 10],
        help="cut-offs; the first is used for hit/all/MRR and latency",
    )
    parser.add_argument("--data-dir", type=Path, help="reuse this ingested boardpapers index")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder of PDFs")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per question")
    parser.add_argument("--torch-threads", type=int, help="torch intra-op threads to use")
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    parser.add_argument(
        "--reranker", choices=["cross-encoder", "bi-encoder"], help="also measure this reranker"
    )
    parser.add_argument("--reranker-model", type=Path, help="the reranker's local model folder")
    args = parser.parse_args(argv)
    if (args.reranker is None) != (args.reranker_model is None):
        parser.error("--reranker and --reranker-model go together")
    set_torch_threads(args.torch_threads)

    from ingest.store.embeddings import BundledEmbeddings
    from service.api.app import create_app

    header = run_header()
    questions = load_questions(args.questions)
    queries = [q["question"] for q in questions]
    k = args.k[0]
    embeddings = BundledEmbeddings()
    embeddings.embed_query("warm up")  # load the weights before any timing
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        workdir = Path(tmp)
        log("stock recipe: load, split, embed…")
        stock, documents, split_seconds = stock_recipe(args.corpus, embeddings, workdir)
        bm25 = bm25_baseline(documents, split_seconds, workdir)
        log("boardpapers: ingest…" if args.data_dir is None else "boardpapers: reusing index")
        ours, services = boardpapers(args.corpus, embeddings, args.data_dir, workdir)
        systems = [stock, bm25, ours]
        for system in (stock, bm25):
            measure(system, questions, args.k, args.repeats)
        measure(ours, questions, args.k, args.repeats, lambda q: answer_of(services.ask(q)))
        if args.reranker is not None:
            reranked = boardpapers_reranked(services, args.reranker, args.reranker_model)
            systems.append(reranked)
            measure(reranked, questions, args.k, args.repeats)
        log("boardpapers: timing HTTP /search over uvicorn…")
        with serving(create_app(services.settings, services=services)) as url:
            search, close = http_search(url, k)
            try:
                ours.figures["http_search_latency"] = warm_latency(search, queries, args.repeats)
            finally:
                close()
    if args.json:
        results = [
            {
                "system": s.name,
                "chunks": s.chunks,
                "ingest_seconds": s.ingest_seconds,
                "index_mb": s.index_mb,
                **s.figures,
            }
            for s in systems
        ]
        print(
            json.dumps(
                {
                    **header,
                    "torch_threads": torch_threads(),
                    "questions_file": str(args.questions),
                    "results": results,
                },
                indent=2,
            )
        )
        return 0
    print_header(header)
    answerable = ours.figures["questions"]
    print(
        f"{args.questions.name}: {answerable} answerable of {len(questions)} questions; "
        f"latency: one warm-up pass, then {args.repeats} timed passes, k={k}; "
        f"torch threads {torch_threads()}\n"
    )
    print(markdown(systems, args.k))
    http, refusals = ours.figures["http_search_latency"], ours.figures["refusals"]
    print(
        f"\nboardpapers warm HTTP POST /search (real uvicorn, loopback, same process): "
        f"p50 {http['p50_ms']} ms, p95 {http['p95_ms']} ms (n={http['n']})"
    )
    print(
        f"boardpapers refusals (`ask().answered`): refused {refusals['unanswerable_refused']}"
        f" of {refusals['unanswerable']} unanswerable; answered "
        f"{refusals['answerable_answered_share']} of answerable"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
