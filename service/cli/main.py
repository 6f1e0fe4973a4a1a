"""The `boardpapers` command line: ingest, serve, search, ask, documents, remove, eval."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ingest.store.disk_full import DataDiskFull
from service.cli.access_commands import add_access_commands
from service.settings import Settings

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ingest.pipeline import FileReport
    from ingest.store.index import PaperIndex
    from service.api.schemas import AskResponse, SearchResult
    from service.container import Services

Command = Callable[[argparse.Namespace, Settings], int]
M = TypeVar("M", bound="BaseModel")

# Exit status when BOARDPAPERS_SERVICE_URL names a service that does not answer (EX_UNAVAILABLE).
SERVICE_UNAVAILABLE = 69


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {"data_dir": args.data_dir} if getattr(args, "data_dir", None) else {}
    return Settings(**overrides)


def _repairs_note(repairs: tuple[str, ...]) -> str:
    """What the PDF reader mended, for a file that was read: check its text in the results."""
    if not repairs:
        return ""
    more = f"; +{len(repairs) - 1} more" if len(repairs) > 1 else ""
    return f"read with repairs ({repairs[0]}{more}): if its passages read wrongly, export it again"


def _file_note(item: FileReport) -> str:
    """Why a file was not read, where a moved one was, why it is held from the public, which
    pages were read by OCR, what the PDF reader mended, and what of its title, body, date and
    type was read from the paper for want of a sidecar."""
    from ingest.reading.ocr import describe_pages

    if item.reason:
        return item.reason
    notes = [
        f"document {item.doc_id}, was at {item.moved_from}" if item.moved_from else "",
        item.access_note or "",
        f"{describe_pages(item.ocr_pages)} read by OCR" if item.ocr_pages else "",
        _repairs_note(item.repairs),
        item.inferred or "",
    ]
    return "; ".join(note for note in notes if note)


def _services(settings: Settings, *, reading: bool = False) -> Services:
    """The components (the theme scanner and the summariser built when first used; the
    embedding model loaded at its first vector). `reading`: for a one-shot `ask` or `search`,
    the model run in numpy (`LightEmbeddings`: the same vectors, without the 6-10 s of
    importing torch and sentence-transformers)."""
    # No library noise on the command's output: no "Loading weights" bar, no warnings.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from service.container import build_services

    if reading:
        from service.embedding.light import LightEmbeddings

        embeddings = LightEmbeddings(batch_size=settings.embedding_batch_size)
        return build_services(settings, embeddings=embeddings)
    return build_services(settings)


class ServiceError(Exception):
    """The service BOARDPAPERS_SERVICE_URL names did not answer, or not as boardpapers does."""


def _post(settings: Settings, path: str, body: dict[str, Any], reply_model: type[M]) -> M:
    """POST `body` to the running service's `path`; its JSON reply, as `reply_model`."""
    import httpx
    from pydantic import ValidationError

    url = (settings.service_url or "").rstrip("/")
    fix = "start it with `boardpapers serve` or unset BOARDPAPERS_SERVICE_URL"
    try:
        # An LLM answer may take up to its own timeout; connecting should not take long.
        timeout = httpx.Timeout(settings.llm_timeout + 30.0, connect=5.0)
        key = settings.service_key.get_secret_value() if settings.service_key else None
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        reply = httpx.post(url + path, json=body, timeout=timeout, headers=headers)
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise ServiceError(f"The service at {url} does not answer ({reason}): {fix}.") from exc
    if reply.status_code == 401:
        raise ServiceError(
            f"The service at {url} needs an API key: set BOARDPAPERS_SERVICE_KEY to one"
            " (`boardpapers keys create` on the service's data folder makes it)."
        )
    if reply.status_code == 404:
        raise ServiceError(
            f"{url} has no {path} (HTTP 404): is BOARDPAPERS_SERVICE_URL the address of "
            f"`boardpapers serve`? Otherwise {fix}."
        )
    try:
        content = reply.json()
    except ValueError:
        content = None
    if reply.is_error:
        detail = content.get("detail") if isinstance(content, dict) else reply.text[:200]
        where = " (its log says more)" if reply.status_code >= 500 else ""
        raise ServiceError(
            f"The service at {url} could not answer{where}: HTTP {reply.status_code}, {detail}"
        )
    if content is None:
        raise ServiceError(
            f"{url}{path} did not reply in JSON: is BOARDPAPERS_SERVICE_URL the address of "
            f"`boardpapers serve`? Otherwise {fix}."
        )
    try:
        return reply_model.model_validate(content)
    except ValidationError as exc:
        raise ServiceError(
            f"{settings.service_url} replied, but not as `boardpapers serve` does: {exc}"
        ) from exc


def _asked_service(settings: Settings, question: str, k: int) -> AskResponse:
    from service.api.schemas import AskResponse

    response = _post(settings, "/ask", {"question": question, "k": k}, AskResponse)
    # As asked here: the service's conversation is not continued from the command line.
    return response.model_copy(
        update={"question": None, "rewritten_question": None, "conversation_id": None}
    )


def _searched_service(settings: Settings, query: str, k: int) -> list[SearchResult]:
    from service.api.schemas import SearchResponse

    return _post(settings, "/search", {"query": query, "k": k}, SearchResponse).results


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.pipeline import Outcome, ingest_paths

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"Not found: {', '.join(map(str, missing))}. Give files or folders of papers.",
              file=sys.stderr)  # fmt: skip
        return 2
    from ingest.sync import SyncBusyError, sync_lock

    services = _services(settings)
    try:
        # One writer at a time: the same lock as `sync`, so cron and a person never collide.
        with sync_lock(settings.data_dir, args.wait, settings.database_url):
            report = ingest_paths(
                [Path(p) for p in args.paths], services.index, progress=not args.quiet
            )
    except SyncBusyError as exc:
        print(str(exc), file=sys.stderr)
        return 75
    # whole file names: two papers may differ only at the end of a long one
    width = max([4, *(len(Path(item.path).name) for item in report.files)])
    print(f"\n{'file':{width}} {'outcome':10} {'pages':>5} {'chunks':>6}  reason")
    for item in report.files:
        name = Path(item.path).name
        print(f"{name:{width}} {item.outcome.value:10} {item.pages:>5} {item.chunks:>6}  "
              f"{_file_note(item)}")  # fmt: skip
    counts = ", ".join(f"{report.count(o)} {o.value}" for o in Outcome if report.count(o))
    print(f"\n{len(report.files)} files: {counts}. {report.embedded_chunks} chunks embedded.")
    if not report.ok:
        print(
            "Some files were not ingested; the reasons are above. Fix them and run "
            "`boardpapers ingest` again: finished files are not redone.",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import logging.config

    import uvicorn

    from service.access.keys import KeyStore
    from service.observability.logs import log_config

    host = args.host or settings.host
    port = args.port or settings.port
    workers = settings.workers if args.workers is None else args.workers
    if workers < 1:
        print(f"--workers {workers}: serve needs at least one worker process.", file=sys.stderr)
        return 2
    open_demo = not KeyStore(settings.access_database).any_made()
    if open_demo and not _is_loopback(host):
        print(f"Not serving on {host}: no API key exists yet, so anyone who reaches it would"
              " read every paper. Make keys first (`boardpapers keys create --role officer"
              " --name NAME`), or serve on 127.0.0.1.", file=sys.stderr)  # fmt: skip
        return 2
    # Every line from here on in the chosen format (`BOARDPAPERS_LOG_FORMAT`), the warm-up's
    # too; no model-loading bar among them. The workers inherit the environment.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging_config = log_config(settings.log_format)
    logging.config.dictConfig(logging_config)
    if open_demo:
        logging.getLogger(__name__).warning(
            "No API keys: open, on %s only. Once `boardpapers keys create` has made one, every"
            " request needs a key.",
            host,
        )
    # uvicorn's access lines have no duration: the app writes its own (observability.requests).
    served: dict[str, Any] = {
        "host": host, "port": port, "log_config": logging_config, "access_log": False
    }  # fmt: skip
    if workers == 1:
        from service.api.app import serving_app

        uvicorn.run(serving_app(settings), **served)
        return 0
    from service.observability.metrics import shared_by_workers

    # Each worker builds its app from the environment, so the data folder is passed there.
    os.environ["BOARDPAPERS_DATA_DIR"] = str(settings.data_dir.resolve())
    with shared_by_workers():  # /metrics sums every worker's counts
        uvicorn.run("service.api.app:serving_app", factory=True, workers=workers, **served)
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from service.api.schemas import SearchResult

    if settings.service_url:  # a ServiceError is told in `main`
        results = _searched_service(settings, args.query, args.k)
    else:
        hits = _services(settings, reading=True).retriever.search(args.query, k=args.k)
        results = [SearchResult.of(h) for h in hits]
    if args.json:
        print(json.dumps([r.model_dump() for r in results], indent=2))
        return 0
    if not results:
        print("No passages found. Is anything ingested? Try `boardpapers documents`.")
    for rank, result in enumerate(results, start=1):
        doc = result.document
        pages = (
            f"{result.page}–{result.page_end}"
            if result.page_end > result.page
            else f"{result.page}"
        )
        where = f"p. {pages}" + (f", para {result.paragraph}" if result.paragraph else "")
        print(f"[{rank}] {doc.title} ({doc.body}, {doc.date or 'undated'}) {where}")
        if result.section:
            print(f"    § {result.section}")
        print("    " + result.text.replace("\n\n", "\n    "))
        for repeat in result.repeats:
            print(f"    (also printed in {repeat.document.title}, p. {repeat.page})")
        print()
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from service.api.schemas import AskResponse
    from service.exports.answers import answer_docx, answer_markdown
    from service.exports.media import file_name
    from service.exports.output import (
        ExportNotWritten,
        check_destination,
        chosen_format,
        deliver,
        relative_links_note,
    )

    asked = "json" if args.json else args.format
    answer_format = chosen_format(asked, args.out, ("json", "md", "docx"), "text")
    try:
        check_destination(answer_format, args.out, file_name("answer", args.question, "docx"))
    except ExportNotWritten as refusal:
        print(refusal, file=sys.stderr)
        return 2
    if settings.service_url:  # a ServiceError is told in `main`
        response = _asked_service(settings, args.question, args.k)
    else:
        response = AskResponse.of(_services(settings, reading=True).ask(args.question, k=args.k))
    base_url = args.base_url or settings.service_url
    content: str | bytes
    if answer_format == "json":
        content = response.model_dump_json(indent=2) + "\n"
    elif answer_format == "md":
        content = answer_markdown(response, args.question, base_url)
    elif answer_format == "docx":
        content = answer_docx(response, args.question, base_url)
    else:
        content = _answer_text(response)
    relative_links_note(answer_format, base_url)
    deliver(content, args.out)
    return 0


def _answer_text(response: AskResponse) -> str:
    """The answer, then its numbered sources with their quotes, as `ask` prints them."""
    lines = [response.answer, ""]
    if response.citations:
        lines.append("Sources:")
    for c in response.citations:
        doc = c.document
        where = f"p. {c.page}" + (f"–{c.page_end}" if c.page_end != c.page else "")
        where += f", para {c.paragraph}" if c.paragraph else ""
        where += ", read by OCR" if c.ocr else ""
        dated = doc.date or "undated"
        lines.append(f"[{c.n}] {doc.title} — {doc.body}, {dated} — {where}\n    “{c.quote}”")
    return "\n".join(lines) + "\n"


def cmd_documents(args: argparse.Namespace, settings: Settings) -> int:
    from service.api.schemas import DocumentDetail

    docs = [DocumentDetail.of_stored(d) for d in _services(settings).index.documents()]
    if args.json:
        print(json.dumps([d.model_dump() for d in docs], indent=2))
        return 0
    if not docs:
        print("No documents yet: run `boardpapers ingest corpus/`.")
    for doc in docs:
        dated = doc.date or "undated"
        print(f"{doc.id}\n    {doc.title} — {doc.body}, {dated}; {doc.pages} pages, "
              f"{doc.chunks} chunks; {doc.source}")  # fmt: skip
    return 0


def _document_at(index: PaperIndex, path: Path) -> str:
    """The id of the paper recorded at `path` (two papers may share a file name in different
    folders), else the id its file name would give."""
    from ingest.reading.metadata import document_id

    places = {str(path.absolute()), str(path.resolve())}
    recorded = next((doc for doc in index.documents() if doc.path in places), None)
    return recorded.meta.doc_id if recorded else document_id(path)


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.sync import SyncBusyError, sync_lock

    index = _services(settings).index
    doc_id = args.doc if index.document(args.doc) else _document_at(index, Path(args.doc))
    try:
        with sync_lock(settings.data_dir, args.wait, settings.database_url):
            removed = index.remove_document(doc_id)
            index.refresh_keyword_index()
    except SyncBusyError as exc:
        print(str(exc), file=sys.stderr)
        return 75
    if not removed:
        print(f"No document '{args.doc}'. `boardpapers documents` lists the ids.", file=sys.stderr)
        return 1
    print(f"Removed {doc_id}.")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from service.evaluation import Answer, Passage, answer_of, evaluate, find_misses, load_questions

    services = _services(settings)
    questions = load_questions(Path(args.questions))

    def retrieve(question: str, k: int) -> list[Passage]:
        return [
            Passage(h.chunk.meta.source, h.text) for h in services.retriever.search(question, k=k)
        ]

    def answer(question: str) -> Answer:
        return answer_of(services.ask(question))  # as `POST /ask` with its defaults

    # one ranked list per question, asked for the deepest k: @5 is the first five places of @10
    report = evaluate(questions, retrieve, args.k, answer)
    figures: dict[str, object] = report.figures()
    for k in report.ks:
        figures[f"hit@{k}_by_type"] = report.by_type(k)
    misses = find_misses(questions, report, retrieve, args.depth) if args.misses else []
    if args.json:
        if args.misses:
            figures["misses"] = [vars(miss) for miss in misses]
        print(json.dumps(figures, indent=2))
        return 0
    for key, value in figures.items():
        print(f"{key:32} {value}")
    if args.misses:
        print(f"\ngold quotes not in the top {max(args.k)}; rank among {args.depth} places:")
        for miss in misses:
            rank = f"rank {miss.rank}" if miss.rank else f"not in {args.depth}"
            quote = " ".join(miss.quote.split())
            print(f"{miss.question_id:8} {rank:12} {miss.doc[:40]:40} {quote[:70]}")
    return 0


def _not_folders(folders: list[Path]) -> bool:
    """Whether any of `folders` is not a folder (it is said so)."""
    missing = [folder for folder in folders if not folder.is_dir()]
    if missing:
        print(f"Not a folder: {', '.join(map(str, missing))}.", file=sys.stderr)
    return bool(missing)


def _sync_once(folders: list[Path], services: Services, args: argparse.Namespace) -> int:
    """One sync of `folders` and its report: a line per paper added, changed, moved, removed
    or not read, and the counts."""
    from ingest.pipeline import Outcome
    from ingest.sync import SyncBusyError, sync_folders

    if _not_folders(folders):  # each round: an unmounted share must not remove every paper
        return 2
    try:
        report = sync_folders(
            folders, services.index, keep_removed=args.keep_removed,
            progress=not args.quiet, wait=args.wait,
        )  # fmt: skip
    except SyncBusyError as exc:
        print(f"Not synced: {exc}.", file=sys.stderr)
        return 75  # EX_TEMPFAIL: cron may simply try again later
    for item in report.files:
        if item.outcome is not Outcome.UNCHANGED:
            note = _file_note(item)
            print(f"{item.outcome.value:9} {Path(item.path).name}"
                  + (f"  ({item.chunks} chunks)" if item.chunks else "")
                  + (f"  — {note}" if note else ""))  # fmt: skip
    for gone in report.removed:
        print(f"{'kept' if gone.kept else 'removed':9} {gone.doc_id}  (file gone: {gone.path})")
    counts = ", ".join(f"{report.count(o)} {o.value}" for o in Outcome if report.count(o))
    verb = "kept" if args.keep_removed else "removed"
    print(f"{len(report.files)} files: {counts or 'none'}; {len(report.removed)} {verb}.")
    if not report.ok:
        print(f"{len(report.failures)} file(s) could not be synced; the reasons are above. "
              "Everything else is up to date.", file=sys.stderr)  # fmt: skip
        return 1
    return 0


def _sync_on_schedule(folders: list[Path], services: Services, args: argparse.Namespace) -> int:
    """`sync --every` / `--watch`: rounds until SIGTERM or SIGINT, each under a timestamp."""
    from datetime import datetime

    from ingest.schedule import SETTLE_SECONDS, Every, Watch, run_schedule, stop_on_signals

    trigger = Watch(folders, args.settle or SETTLE_SECONDS) if args.watch else Every(args.every)

    def sync_round() -> None:
        print(f"== sync at {datetime.now().astimezone().isoformat(timespec='seconds')} ==",
              flush=True)  # fmt: skip
        try:
            _sync_once(folders, services, args)
        finally:  # each round's lines reach a log (a pipe, `docker logs`) as it ends
            sys.stdout.flush()
            sys.stderr.flush()

    def on_error(error: Exception) -> None:
        print(f"This round failed ({type(error).__name__}: {error}); the next round will try"
              " again.", file=sys.stderr, flush=True)  # fmt: skip

    when = (
        f"when {', '.join(map(str, folders))} change" if args.watch else f"every {args.every:g} s"
    )
    print(f"Syncing {when}; stop with Ctrl-C or SIGTERM.", file=sys.stderr, flush=True)
    with stop_on_signals() as stop:
        rounds = run_schedule(trigger, sync_round, on_error, stop)
    print(f"Stopped after {rounds} round(s).", file=sys.stderr)
    return 0


def _interval(text: str) -> float:
    """`--every` and `--settle`: seconds in "30s", "15m", "1h"; argparse says what is wrong."""
    from ingest.schedule import IntervalError, parse_interval

    try:
        return parse_interval(text)
    except IntervalError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    folders = [Path(p) for p in args.folders]
    if _not_folders(folders):  # before the model loads: a typo is told at once
        return 2
    if args.settle is not None and not args.watch:
        print("--settle is for --watch: add --watch, or leave --settle out.", file=sys.stderr)
        return 2
    services = _services(settings)
    if args.every is None and not args.watch:
        return _sync_once(folders, services, args)
    return _sync_on_schedule(folders, services, args)


def cmd_summarise(args: argparse.Namespace, settings: Settings) -> int:
    from service.summaries.batch import select_documents, summarise_documents
    from service.summaries.store import SummaryStore

    if args.since:
        from datetime import date

        try:
            args.since = date.fromisoformat(args.since).isoformat()
        except ValueError:
            print(f"--since wants a date like 2024-12-05, not '{args.since}'.", file=sys.stderr)
            return 2
    services = _services(settings)
    summariser = services.summariser
    store = SummaryStore(settings.summaries_database)
    doc_ids = select_documents(
        services.index, store, summariser.mode, doc_ids=args.docs, new=args.new, since=args.since
    )
    unknown = [d for d in args.docs if services.index.document(d) is None]
    report = summarise_documents(
        doc_ids, services.index, summariser, store, args.out, progress=not args.quiet
    )
    for summary in report.summaries:
        state = "stored" if summary.doc_id in report.reused else "new"
        print(f"{state:7} {args.out / (summary.doc_id + '.md')}")
    print(f"{len(report.summaries)} summaries ({summariser.mode}) in {args.out}; "
          f"digest: {report.digest}")  # fmt: skip
    failed = {**report.failed, **{d: "no such document" for d in unknown}}
    for doc_id, reason in failed.items():
        print(f"failed  {doc_id}: {reason}", file=sys.stderr)
    if failed:
        print(f"{len(failed)} paper(s) not summarised; the others are written.", file=sys.stderr)
        return 1
    return 0


def cmd_themes(args: argparse.Namespace, settings: Settings) -> int:
    from service.exports.media import file_name
    from service.exports.output import (
        ExportNotWritten,
        check_destination,
        chosen_format,
        deliver,
        relative_links_note,
    )
    from service.themes.export import to_csv, to_docx, to_markdown
    from service.themes.schemas import ThemeResponse

    theme_format = chosen_format(args.format, args.out, ("md", "csv", "json", "docx"), "md")
    try:
        check_destination(theme_format, args.out, file_name("theme", args.theme, "docx"))
    except ExportNotWritten as refusal:
        print(refusal, file=sys.stderr)
        return 2
    services = _services(settings)
    kinds = args.kind or None
    response = ThemeResponse.of(services.themes.scan(args.theme, kinds=kinds), services.index)
    base_url = args.base_url or settings.service_url
    content: str | bytes
    if theme_format == "md":
        content = to_markdown(response, base_url)
    elif theme_format == "csv":
        content = to_csv(response)
    elif theme_format == "docx":
        content = to_docx(response, base_url)
    else:
        content = response.model_dump_json(indent=2) + "\n"
    relative_links_note(theme_format, base_url)
    deliver(content, args.out)
    return 0


_EXAMPLES = """examples:
  boardpapers ingest corpus/
  boardpapers sync /shared/papers --quiet          # from cron: new, changed, gone papers
  boardpapers sync /shared/papers --every 15m      # keep in step until stopped (or --watch)
  boardpapers ask "What did Cabinet decide about the family hub contracts, and why?"
  boardpapers search "domestic abuse" -k 10
  boardpapers themes "domestic abuse" --format csv > places.csv
  boardpapers serve                                # http://127.0.0.1:8000
  boardpapers keys create --role officer --name "Policy team"
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("boardpapers")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _command(sub: Any, name: str, help_text: str, *examples: str) -> argparse.ArgumentParser:
    """A sub-command whose `--help` ends with its examples."""
    epilog = "examples:\n" + "".join(f"  {example}\n" for example in examples)
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    return parser


def _add_export_arguments(p: argparse.ArgumentParser, example: str) -> None:
    """`--out` and `--base-url`, as `ask` and `themes` take them."""
    p.add_argument(
        "--out",
        type=Path,
        help=f"write to this file instead of standard output (needed for docx), e.g. {example}",
    )
    p.add_argument(
        "--base-url",
        help="the service's address, so links open from the file, e.g. http://127.0.0.1:8000"
        " (default $BOARDPAPERS_SERVICE_URL)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="boardpapers", description=__doc__, epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument(
        "--data-dir", type=Path, help="data folder (default $BOARDPAPERS_DATA_DIR or ./data)"
    )
    parser.add_argument("--version", action="version", version=f"boardpapers {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = _command(
        sub,
        "ingest",
        "ingest files or folders of papers",
        "boardpapers ingest corpus/",
        "boardpapers ingest report.pdf minutes.docx --quiet",
    )
    p.add_argument("paths", nargs="+", help="PDF, .docx, .html, .md or .txt files, or folders")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for a running sync")
    p.set_defaults(func=cmd_ingest)

    p = _command(
        sub,
        "serve",
        "serve the HTTP API and the chat page",
        "boardpapers serve",
        "boardpapers serve --host 0.0.0.0 --port 8080 --workers 2   # needs keys",
    )
    p.add_argument("--host", help="address to bind (default 127.0.0.1; others need API keys)")
    p.add_argument("--port", type=int, help="port to listen on (default 8000)")
    p.add_argument(
        "--workers", type=int,
        help="worker processes (default 1, or $BOARDPAPERS_WORKERS); each loads the model and"
        " has its own work slots; /metrics sums them",
    )  # fmt: skip
    p.set_defaults(func=cmd_serve)

    p = _command(
        sub,
        "search",
        "the passages that best match a query",
        'boardpapers search "domestic abuse" -k 10',
        'boardpapers search "family hubs" --json',
    )
    p.add_argument("query", help="what to look for, in your own words")
    p.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON, as POST /search returns")
    p.set_defaults(func=cmd_search)

    p = _command(
        sub,
        "ask",
        "a cited answer to a question",
        'boardpapers ask "Who chairs the Health and Wellbeing Board?"',
        'boardpapers ask "What did Cabinet decide about the family hubs?" --out briefing.docx',
    )
    p.add_argument("question", help="the question, in your own words")
    p.add_argument("-k", type=int, default=6, help="passages the answer draws on (default 6)")
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print JSON, as POST /ask returns")
    shape.add_argument(
        "--format",
        choices=("text", "json", "md", "docx"),
        help="text (default), json, md or docx: the answer and its numbered, linked sources"
        " (default: from --out's suffix, else text)",
    )
    _add_export_arguments(p, "answer.docx")
    p.set_defaults(func=cmd_ask)

    p = _command(
        sub,
        "documents",
        "list the ingested documents",
        "boardpapers documents",
        "boardpapers documents --json",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_documents)

    p = _command(
        sub,
        "remove",
        "remove a document (by id or file name)",
        "boardpapers remove 2017-07-05-sop-coordination-group-key-points",
        "boardpapers remove corpus/old-minutes.pdf",
    )
    p.add_argument("doc", help="a document id (see `documents`) or the paper's file")
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for a running sync")
    p.set_defaults(func=cmd_remove)

    p = _command(
        sub, "sync", "make the index match folders of papers (cron-safe), once or on a schedule",
        "boardpapers sync /shared/papers --quiet      # once, e.g. from cron",
        "boardpapers sync /shared/papers --every 15m  # a round every 15 minutes",
        "boardpapers sync /shared/papers --watch      # soon after a paper is added or changed",
    )  # fmt: skip
    p.add_argument("folders", nargs="+", help="folders of papers, searched below too")
    p.add_argument("--keep-removed", action="store_true", help="keep papers whose file has gone")
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for another sync")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    when = p.add_mutually_exclusive_group()
    when.add_argument(
        "--every",
        type=_interval,
        metavar="INTERVAL",
        help="sync again each INTERVAL (30s, 15m, 1h) until stopped (SIGTERM, Ctrl-C)",
    )
    when.add_argument(
        "--watch",
        action="store_true",
        help="sync again soon after files in the folders change, until stopped",
    )
    p.add_argument(
        "--settle",
        type=_interval,
        metavar="INTERVAL",
        help="with --watch: how long files must stay unchanged before they are read,"
        " so a paper still being copied is not read half-written (default 5s)",
    )
    p.set_defaults(func=cmd_sync)

    p = _command(
        sub,
        "summarise",
        "summaries of papers, with a digest, to a folder",
        "boardpapers summarise --new --out summaries/",
    )
    p.add_argument("docs", nargs="*", help="document ids (default: all)")
    p.add_argument("--new", action="store_true", help="only papers not summarised before")
    p.add_argument("--since", help="only papers dated on or after this date (YYYY-MM-DD)")
    p.add_argument("--out", type=Path, required=True, help="folder for <doc>.md/.json, digest.md")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_summarise)

    p = _command(
        sub,
        "themes",
        "every place the papers mention a theme (evidence table)",
        'boardpapers themes "domestic abuse"',
        'boardpapers themes "modern slavery" --out slavery.docx --base-url http://127.0.0.1:8000',
    )
    p.add_argument("theme", help='a theme, e.g. "domestic abuse"')
    p.add_argument(
        "--format",
        choices=("md", "csv", "json", "docx"),
        help="md (rows linked to their pages), csv, json or docx (a Word evidence table)"
        " (default: from --out's suffix, else md)",
    )
    _add_export_arguments(p, "domestic-abuse.docx")
    p.add_argument("--kind", action="append", help="only places of this kind (repeatable)",
                   choices=("priority", "review", "recommendation", "decision", "action",
                            "figure", "other"))  # fmt: skip
    p.set_defaults(func=cmd_themes)

    p = _command(
        sub,
        "eval",
        "score a gold question file",
        "boardpapers eval ../shared/eval/questions-dev.jsonl",
        "boardpapers eval questions.jsonl --misses -k 5",
    )
    p.add_argument("questions", type=Path, help="a gold question file (JSON lines)")
    p.add_argument("-k", type=int, nargs="+", default=[5, 10], help="cut-offs (default 5 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--misses", action="store_true", help="list the gold quotes missing from the top k"
    )
    p.add_argument("--depth", type=int, default=50, help="places searched to rank a missed quote")
    p.set_defaults(func=cmd_eval)

    add_access_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    command: Command = args.func
    try:
        return command(args, _settings(args))
    except ServiceError as exc:  # BOARDPAPERS_SERVICE_URL named a service that did not answer
        print(str(exc), file=sys.stderr)
        return SERVICE_UNAVAILABLE
    except DataDiskFull as exc:  # a write (ingest, sync, remove, a key) found no room
        print(f"Not done: {exc}.", file=sys.stderr)
        return 1
