"""Retrieval quality, ingest cost, index size and warm latency per development set, side by side.

Per set (a corpus of PDFs and its gold question file), three systems in one process, sharing one
loaded embedding model (`BundledEmbeddings`; Chroma never embeds anything itself):

- LangChain's stock recipe: `PyPDFLoader` per PDF, `RecursiveCharacterTextSplitter(1000, 200)`,
  `langchain_chroma.Chroma` embedded in a temp dir, similarity search top k;
- plain BM25 (bm25s, English stop words and Snowball stemmer) over the stock recipe's chunks;
- boardpapers: `build_services` + `ingest_paths` (or the folder `--data-dir` names) +
  `retriever.search`, and `/search` over HTTP;
- with `--reranker KIND --reranker-model DIR`, boardpapers again on each set's index with that
  second stage, to weigh its gain against its cost per query.

One table holds every set's figures: hit@k, all@k (first k), evidence recall at each k, MRR at the
deepest k, chunks, ingest seconds, index MB and the warm in-process p50/p95 of one retrieve (top
first k). Below it, per set, boardpapers' warm HTTP `/search` latency and its refusals
(`services.ask(q).answered`). With `--ablations`, only boardpapers, on the same index, with each
retrieval setting switched off in turn: hit@first k, evidence recall and MRR at the deepest k per
set (no baselines, no timing). Scored by `service.evaluation` (the shared rule); prints figures,
never passes or fails. Progress goes to stderr, figures to stdout.

    python -m bench.quality [--set NAME CORPUS_DIR QUESTIONS ...] [--data-dir NAME=DIR ...]
        [--k 5 10] [--ablations] [--no-baselines] [--json]
        [--reranker {cross-encoder,bi-encoder} --reranker-model DIR]

Without `--set`: `oxfordshire corpus/ ../shared/eval/questions-dev.jsonl`, and, when
`../shared/corpus-kent/pdf` exists, `kent ../shared/corpus-kent/pdf
../shared/eval/questions-kent-dev.jsonl`. `--data-dir NAME=DIR` reuses an ingested boardpapers
folder for set NAME (a bare `DIR` names the first set's); other sets are ingested into a temp dir.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.latency import (
    CORPUS,
    DEV_QUESTIONS,
    PROJECT_ROOT,
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
from service.evaluation import Passage, evaluate, load_questions

Retrieve = Callable[[str, int], list[Passage]]

KENT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus-kent" / "pdf"
KENT_DEV_QUESTIONS = PROJECT_ROOT.parent / "shared" / "eval" / "questions-kent-dev.jsonl"

# Each retrieval setting switched off: its label and the settings that turn it off.
ABLATIONS: dict[str, dict[str, Any]] = {
    "nothing (defaults)": {},
    "date lift": {"date_weight": 0.0},
    "key-term weighting": {"term_coverage_weight": 0.0},
    "question parts": {"search_question_parts": False},
    "spread across papers": {"across_papers_discount": 1.0},
    "acronym expansion": {"expand_acronyms": False},
    "joining adjacent chunks": {"passage_max_chunks": 1},
    "dense retriever": {"dense_weight": 0.0},
    "keyword retriever": {"keyword_weight": 0.0},
}


@dataclass
class DevSet:
    name: str
    corpus: Path
    questions_file: Path
    data_dir: Path | None = None  # an ingested boardpapers folder to reuse


@dataclass
class System:
    name: str
    retrieve: Retrieve
    chunks: int
    ingest_seconds: float | None  # None: an existing index was reused
    index_mb: float
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class SetResult:
    """One set's figures: every system's, and boardpapers' HTTP latency and refusals."""

    dev_set: DevSet
    questions: int
    systems: list[System] = field(default_factory=list)
    http_search_latency: dict[str, Any] | None = None
    refusals: dict[str, Any] | None = None


def default_sets(kent_corpus: Path = KENT_CORPUS) -> list[DevSet]:
    """Oxfordshire's sample corpus, and Kent's when its PDFs are there."""
    sets = [DevSet("oxfordshire", CORPUS, DEV_QUESTIONS)]
    if kent_corpus.is_dir():
        sets.append(DevSet("kent", kent_corpus, KENT_DEV_QUESTIONS))
    return sets


def assign_data_dirs(sets: list[DevSet], specs: Iterable[str]) -> None:
    """Give each set the folder `NAME=DIR` names; a bare `DIR` is the first set's."""
    names = {s.name: s for s in sets}
    for spec in specs:
        name, sep, folder = spec.partition("=")
        if not sep:
            name, folder = sets[0].name, spec
        if name not in names:
            raise ValueError(f"--data-dir {spec}: no set named {name!r} (sets: {', '.join(names)})")
        names[name].data_dir = Path(folder)


def refusal_figures(
    questions: Iterable[dict[str, Any]], answered: Callable[[str], bool]
) -> dict[str, Any]:
    """How many unanswerable questions the answerer refused, and the share of answerable
    ones it answered."""
    refused = unanswerable = answerable = answered_answerable = 0
    for question in questions:
        gave = answered(question["question"])
        if question["evidence"]:
            answerable += 1
            answered_answerable += gave
        else:
            unanswerable += 1
            refused += not gave
    return {
        "unanswerable": unanswerable,
        "unanswerable_refused": refused,
        "answerable_answered_share": round(answered_answerable / answerable, 3)
        if answerable
        else None,
    }


def retrieval_columns(ks: Sequence[int]) -> list[str]:
    """The figures shown per system: hit and all at the first k, recall at each, MRR at the
    deepest."""
    first, deepest = ks[0], max(ks)
    recall = [f"evidence_recall@{k}" for k in sorted(set(ks))]
    return [f"hit@{first}", f"all@{first}", *recall, f"mrr@{deepest}"]


def figure(value: object) -> str:
    """A score as the tables print it: three decimals (1.000, not 1.0)."""
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _head(names: Sequence[str]) -> list[str]:
    return [_row(names), "|" + "---|" * len(names)]


def markdown(results: list[SetResult], ks: Sequence[int]) -> str:
    """One table, a row per set and system, and hit@k by question type the same way."""
    columns = retrieval_columns(ks)
    heads = [c.replace("evidence_recall", "recall").replace("mrr", "MRR") for c in columns]
    timed = any("latency" in s.figures for r in results for s in r.systems)
    timing = ["p50 ms", "p95 ms"] if timed else []
    lines = _head(["set", "system", *heads, "chunks", "ingest s", "index MB", *timing])
    for result in results:
        for s in result.systems:
            ingest = "reused" if s.ingest_seconds is None else f"{s.ingest_seconds:.1f}"
            latency = s.figures.get("latency", {})
            times = [latency.get("p50_ms", ""), latency.get("p95_ms", "")] if timed else []
            figures = [figure(s.figures[c]) for c in columns]
            row = [result.dev_set.name, s.name, *figures, s.chunks, ingest, s.index_mb, *times]
            lines.append(_row(row))
    k = ks[0]
    key = f"hit@{k}_by_type"
    types = sorted({t for r in results for s in r.systems for t in s.figures[key]})
    lines += ["", f"hit@{k} by question type:", "", *_head(["set", "system", *types])]
    for result in results:
        for s in result.systems:
            by_type = s.figures[key]
            scores = (figure(by_type.get(t, "")) for t in types)
            lines.append(_row([result.dev_set.name, s.name, *scores]))
    return "\n".join(lines)


def ablation_markdown(
    ablations: dict[str, dict[str, dict[str, Any]]], sets: Sequence[str], ks: Sequence[int]
) -> str:
    """Rows: what is switched off; cells: hit@first k / recall@deepest / MRR per set."""
    first, deepest = ks[0], max(ks)
    keys = [f"hit@{first}", f"evidence_recall@{deepest}", f"mrr@{deepest}"]
    shown = f"hit@{first} / r@{deepest} / MRR"
    lines = _head(["switched off", *(f"{name}: {shown}" for name in sets)])
    for label, by_set in ablations.items():
        cells = [" / ".join(figure(by_set[name][key]) for key in keys) for name in sets]
        lines.append(_row([label, *cells]))
    return "\n".join(lines)


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


# What a served app keeps beside the index (conversations, summaries, access keys): not the index.
_APP_STORES = ("conversations.sqlite3", "summaries.sqlite3", "access.sqlite3")


def index_size_mb(folder: Path) -> float:
    """The bytes on disk of a boardpapers data folder, the app's own stores left out, and
    SQLite's shared-memory files (`-shm`, there only while a database is open)."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.endswith("-shm")]
    kept = [p for p in files if p.parent != folder or not p.name.startswith(_APP_STORES)]
    return round(sum(p.stat().st_size for p in kept) / 1e6, 2)


def searching(retriever: Any) -> Retrieve:
    """A retriever's `search` as the rule reads it: each place's document and text."""

    def retrieve(question: str, k: int) -> list[Passage]:
        hits = retriever.search(question, k=k)
        return [Passage(Path(h.chunk.meta.source).stem, h.text) for h in hits]

    return retrieve


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

    chunks = services.index.chunk_count()
    system = System(
        "boardpapers", searching(services.retriever), chunks, seconds, index_size_mb(folder)
    )
    return system, services


def boardpapers_reranked(services: Any, kind: str, model: Path) -> System:
    """The same index and settings, with a reranker as second stage."""
    from service.container import build_services

    settings = services.settings.model_copy(update={"reranker": kind, "reranker_model": model})
    reranked = build_services(settings, embeddings=services.index.embeddings)
    name = f"boardpapers + {kind} reranker ({model.name}, top {settings.rerank_depth})"
    size = round(index_size_mb(settings.data_dir) + dir_size_mb(model), 2)
    return System(name, searching(reranked.retriever), reranked.index.chunk_count(), None, size)


def retrieval_figures(
    retrieve: Retrieve, questions: list[dict[str, Any]], ks: Sequence[int]
) -> dict[str, Any]:
    """Every k scored on one ranked list per question, asked for the deepest k."""
    report = evaluate(questions, retrieve, ks)
    figures = report.figures()
    first = ks[0]
    kept: dict[str, Any] = {"questions": figures["questions"]}
    kept.update({key: value for key, value in figures.items() if "@" in key})
    kept[f"hit@{first}_by_type"] = report.by_type(first)
    return kept


def measure(
    system: System, questions: list[dict[str, Any]], ks: Sequence[int], repeats: int
) -> None:
    log(f"  scoring and timing {system.name}…")
    system.figures.update(retrieval_figures(system.retrieve, questions, ks))
    queries = [q["question"] for q in questions]
    system.figures["latency"] = warm_latency(lambda q: system.retrieve(q, ks[0]), queries, repeats)


def warm_latency(call: Callable[[str], object], queries: list[str], repeats: int) -> dict[str, Any]:
    time_calls(call, queries)  # warm-up pass
    return percentiles(time_calls(call, queries * repeats))


def run_set(dev_set: DevSet, embeddings: Any, args: argparse.Namespace, workdir: Path) -> SetResult:
    """Every system on one set: baselines (unless `--no-baselines`), boardpapers, the
    reranker when asked for; then boardpapers over HTTP and its refusals."""
    from service.api.app import create_app

    questions = load_questions(dev_set.questions_file)
    queries = [q["question"] for q in questions]
    k = args.k[0]
    result = SetResult(dev_set, sum(bool(q["evidence"]) for q in questions))
    if not args.no_baselines:
        log(f"{dev_set.name}: stock recipe: load, split, embed {dev_set.corpus}…")
        stock, documents, split_seconds = stock_recipe(dev_set.corpus, embeddings, workdir)
        bm25 = bm25_baseline(documents, split_seconds, workdir)
        result.systems += [stock, bm25]
    reusing = dev_set.data_dir is not None
    log(f"{dev_set.name}: boardpapers: {f'reusing {dev_set.data_dir}' if reusing else 'ingest…'}")
    ours, services = boardpapers(dev_set.corpus, embeddings, dev_set.data_dir, workdir)
    result.systems.append(ours)
    if args.reranker is not None:
        result.systems.append(boardpapers_reranked(services, args.reranker, args.reranker_model))
    for system in result.systems:
        measure(system, questions, args.k, args.repeats)
    log(f"{dev_set.name}: boardpapers: timing HTTP /search over uvicorn…")
    with serving(create_app(services.settings, services=services)) as url:
        search, close = http_search(url, k)
        try:
            result.http_search_latency = warm_latency(search, queries, args.repeats)
        finally:
            close()
    log(f"{dev_set.name}: boardpapers: refusals (ask)…")
    result.refusals = refusal_figures(questions, lambda q: services.ask(q).answered)
    for system in result.systems:  # the stores are in `workdir`, gone after this set
        system.retrieve = _gone
    return result


def _gone(question: str, k: int) -> list[Passage]:
    raise RuntimeError("this set's stores are closed")


def run_ablations(
    dev_set: DevSet, embeddings: Any, ks: Sequence[int], workdir: Path
) -> dict[str, dict[str, Any]]:
    """boardpapers on one set, with each retrieval setting switched off in turn over the
    same index: label → figures."""
    from service.query.question import QuestionReader
    from service.retrieval.retriever import Retriever

    questions = load_questions(dev_set.questions_file)
    reusing = dev_set.data_dir is not None
    log(f"{dev_set.name}: boardpapers: {f'reusing {dev_set.data_dir}' if reusing else 'ingest…'}")
    _, services = boardpapers(dev_set.corpus, embeddings, dev_set.data_dir, workdir)
    figures: dict[str, dict[str, Any]] = {}
    for label, changes in ABLATIONS.items():
        log(f"  {dev_set.name}: switched off: {label}…")
        settings = services.settings.model_copy(update=changes)
        reader = QuestionReader(services.index, settings)
        retriever = Retriever(services.index, settings, reader=reader)
        figures[label] = retrieval_figures(searching(retriever), questions, ks)
    return figures


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.quality",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--set", nargs=3, action="append", metavar=("NAME", "CORPUS_DIR", "QUESTIONS"),
        help="a development set: its name, folder of PDFs and gold JSONL (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--data-dir", action="append", default=[], metavar="NAME=DIR",
        help="reuse this ingested boardpapers folder for set NAME (bare DIR: the first set)",
    )  # fmt: skip
    parser.add_argument(
        "--k", type=int, nargs="+", default=[5, 10],
        help="cut-offs: hit/all and latency at the first, recall at each, MRR at the deepest",
    )  # fmt: skip
    parser.add_argument(
        "--ablations", action="store_true",
        help="boardpapers only, each retrieval setting off in turn (no baselines, no timing)",
    )  # fmt: skip
    parser.add_argument(
        "--no-baselines", action="store_true", help="skip the stock recipe and BM25 rows"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per question")
    parser.add_argument("--torch-threads", type=int, help="torch intra-op threads to use")
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    parser.add_argument(
        "--reranker", choices=["cross-encoder", "bi-encoder"],
        help="also measure boardpapers with this reranker, on every set",
    )  # fmt: skip
    parser.add_argument("--reranker-model", type=Path, help="the reranker's local model folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if (args.reranker is None) != (args.reranker_model is None):
        parser.error("--reranker and --reranker-model go together")
    if args.ablations and args.reranker is not None:
        parser.error("--ablations measures boardpapers' own settings; drop --reranker")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    sets = (
        [DevSet(name, Path(c), Path(q)) for name, c, q in args.set] if args.set else default_sets()
    )
    if len({s.name for s in sets}) < len(sets):
        parser.error("each --set needs a name of its own")
    try:
        assign_data_dirs(sets, args.data_dir)
    except ValueError as exc:
        parser.error(str(exc))
    set_torch_threads(args.torch_threads)

    from ingest.store.embeddings import BundledEmbeddings

    header = run_header()
    embeddings = BundledEmbeddings()
    embeddings.embed_query("warm up")  # load the weights before any timing
    if args.ablations:
        return _ablations(sets, embeddings, args, header)
    results = []
    for dev_set in sets:
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
            results.append(run_set(dev_set, embeddings, args, Path(tmp)))
    if args.json:
        print(json.dumps(_json(results, header), indent=2))
        return 0
    print_header(header)
    for r in results:
        print(
            f"{r.dev_set.name}: {r.dev_set.questions_file.name}, {r.questions} answerable of "
            f"{r.questions + (r.refusals or {}).get('unanswerable', 0)} questions; "
            f"corpus {r.dev_set.corpus}"
        )
    print(
        f"latency: in-process retrieve of top {args.k[0]}, one warm-up pass, then "
        f"{args.repeats} timed passes; torch threads {torch_threads()}\n"
    )
    print(markdown(results, args.k))
    print()
    for r in results:
        http, refusals = r.http_search_latency or {}, r.refusals or {}
        print(
            f"{r.dev_set.name}: boardpapers warm HTTP POST /search (real uvicorn, loopback, same "
            f"process, k={args.k[0]}): p50 {http['p50_ms']} ms, p95 {http['p95_ms']} ms "
            f"(n={http['n']})"
        )
        print(
            f"{r.dev_set.name}: boardpapers refusals (`ask().answered`): refused "
            f"{refusals['unanswerable_refused']} of {refusals['unanswerable']} unanswerable; "
            f"answered {refusals['answerable_answered_share']} of answerable"
        )
    return 0


def _json(results: list[SetResult], header: dict[str, Any]) -> dict[str, Any]:
    return {
        **header,
        "torch_threads": torch_threads(),
        "sets": [
            {
                "set": r.dev_set.name,
                "corpus": str(r.dev_set.corpus),
                "questions_file": str(r.dev_set.questions_file),
                "data_dir": None if r.dev_set.data_dir is None else str(r.dev_set.data_dir),
                "answerable": r.questions,
                "results": [
                    {
                        "system": s.name,
                        "chunks": s.chunks,
                        "ingest_seconds": s.ingest_seconds,
                        "index_mb": s.index_mb,
                        **s.figures,
                    }
                    for s in r.systems
                ],
                "boardpapers_http_search_latency": r.http_search_latency,
                "boardpapers_refusals": r.refusals,
            }
            for r in results
        ],
    }


def _ablations(
    sets: list[DevSet], embeddings: Any, args: argparse.Namespace, header: dict[str, Any]
) -> int:
    by_label: dict[str, dict[str, dict[str, Any]]] = {label: {} for label in ABLATIONS}
    for dev_set in sets:
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
            for label, figures in run_ablations(dev_set, embeddings, args.k, Path(tmp)).items():
                by_label[label][dev_set.name] = figures
    names = [s.name for s in sets]
    if args.json:
        ablations = [
            {"switched_off": label, "settings": ABLATIONS[label], **by_set}
            for label, by_set in by_label.items()
        ]
        print(json.dumps({**header, "sets": names, "ablations": ablations}, indent=2))
        return 0
    print_header(header)
    for dev_set in sets:
        answerable = by_label["nothing (defaults)"][dev_set.name]["questions"]
        folder = dev_set.data_dir or f"{dev_set.corpus} ingested"
        print(
            f"{dev_set.name}: {dev_set.questions_file.name}, {answerable} answerable; "
            f"boardpapers over {folder}"
        )
    print("\nboardpapers, one retrieval setting switched off at a time, the same index:\n")
    for label, changes in ABLATIONS.items():
        if changes:
            print(f"- {label}: " + ", ".join(f"{k}={v}" for k, v in changes.items()))
    print()
    print(ablation_markdown(by_label, names, args.k))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
