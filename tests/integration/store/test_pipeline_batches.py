"""The ingest pipeline across papers: several papers' chunks embedded in one model call, each
paper published only once all its vectors are in, a broken paper reported while the rest go
in, a crash between embedding and publishing swept by the next run, and papers read in worker
processes exactly as in the ingest process, without torch."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from conftest import KEY_POINTS, ROOT, MakeServices
from papers import make_pdf, pdf_folder
from test_pipeline import PARKS_TEXT, assert_consistent, chroma_ids, live_chunk_ids, write_truncated

from ingest.parse_ahead import ParseAhead, _read_in_worker, _start_worker
from ingest.parsing import ReadRequest, ReadResult, WordPieceCounter, approximate_tokens
from ingest.pipeline import FileReport, Outcome, ingest_paths, parse_workers
from ingest.store.embeddings import BundledEmbeddings, bundled_model_path
from service.settings import Settings

TOPICS = ["housing", "transport", "libraries", "waste", "parks", "schools", "policing", "care"]


def _write_markdown(path: Path, topic: str) -> Path:
    path.write_text(
        f"# {topic.title()} committee notes\n\n"
        + "\n\n".join(
            f"{n}. The {topic} team reported {n * 13} cases in ward {n}; members asked for a "
            f"breakdown by district and agreed to review the {topic} budget in quarter {n}."
            for n in range(1, 7)
        ),
        encoding="utf-8",
    )
    return path


class _CallSizes:
    """The real model's `embed_documents`, noting how many texts each call embeds."""

    def __init__(self, embeddings: BundledEmbeddings) -> None:
        self.embed: Callable[[list[str]], list[list[float]]] = embeddings.embed_documents
        self.sizes: list[int] = []

    def __call__(self, texts: list[str]) -> list[list[float]]:
        self.sizes.append(len(texts))
        return self.embed(texts)


def test_a_batch_reports_a_broken_paper_in_place_and_publishes_the_rest(
    tmp_path: Path, settings: Settings, make_services: MakeServices,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    papers = tmp_path / "papers"
    (papers / "c-broken").mkdir(parents=True)
    first = make_pdf(papers / "a-housing.pdf", "housing")
    second = _write_markdown(papers / "b-transport.md", "transport")
    # a folder whose sidecar cannot be read: its paper fails on our side, in mid-batch
    (papers / "c-broken" / "metadata.json").write_text("{not json", encoding="utf-8")
    failing = _write_markdown(papers / "c-broken" / "libraries.md", "libraries")
    skipped = write_truncated(papers / "d-damaged.pdf")
    last = make_pdf(papers / "e-parks.pdf", "parks")
    services = make_services(settings)
    calls = _CallSizes(services.index.embeddings)  # type: ignore[arg-type]
    monkeypatch.setattr(services.index.embeddings, "embed_documents", calls)
    told: list[FileReport] = []

    report = ingest_paths([papers], services.index, on_file=told.append)

    assert [(Path(f.path).name, f.outcome) for f in report.files] == [
        (first.name, Outcome.ADDED),
        (second.name, Outcome.ADDED),
        (failing.name, Outcome.FAILED),
        (skipped.name, Outcome.SKIPPED),
        (last.name, Outcome.ADDED),
    ]
    assert told == report.files  # told one by one, in the same order
    assert "metadata.json: not valid JSON" in (report.files[2].reason or "")
    assert "not a readable PDF" in (report.files[3].reason or "")
    added = [f for f in report.files if f.outcome is Outcome.ADDED]
    assert all(f.chunks > 0 and f.pages > 0 for f in added)
    # the three good papers' chunks went to the model together, in one call
    assert calls.sizes == [sum(f.chunks for f in added)]
    assert {d.meta.source for d in services.index.documents()} == {
        first.name, second.name, last.name,
    }  # fmt: skip
    assert_consistent(settings, services)

    again = ingest_paths([papers], services.index)
    assert [f.outcome for f in again.files] == [
        Outcome.UNCHANGED, Outcome.UNCHANGED, Outcome.FAILED, Outcome.SKIPPED, Outcome.UNCHANGED,
    ]  # fmt: skip
    assert calls.sizes == [sum(f.chunks for f in added)]  # nothing embedded again


_CRASH_ON_SECOND_PUBLISH = """
import os, sys
from pathlib import Path
from ingest.pipeline import ingest_paths
from service.container import build_services
from service.settings import Settings

services = build_services(Settings(data_dir=Path(sys.argv[1])))
publish = services.index.manifest.publish
published = []

def publish_then_die(*args, **kwargs):
    if published:  # the second paper's vectors are in Chroma: die before it goes live
        os._exit(17)
    published.append(args)
    return publish(*args, **kwargs)

services.index.manifest.publish = publish_then_die
ingest_paths([Path(sys.argv[2])], services.index)
"""


@pytest.mark.faults
def test_a_crash_between_embedding_and_publishing_is_swept_by_the_next_run(
    tmp_path: Path, settings: Settings, make_services: MakeServices
) -> None:
    papers = pdf_folder(tmp_path / "papers", TOPICS[:3])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    script = textwrap.dedent(_CRASH_ON_SECOND_PUBLISH)
    crashed = subprocess.run(
        [sys.executable, "-c", script, str(settings.data_dir), str(papers)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert crashed.returncode == 17, crashed.stderr

    services = make_services(settings)
    index = services.index
    # The first paper is live; the other two were embedded and written, never published.
    assert [d.meta.source for d in index.documents()] == ["housing.pdf"]
    live = live_chunk_ids(services)
    leftovers = chroma_ids(settings) - live
    assert live
    assert leftovers, "the crash came before the batch's vectors were written"
    assert index.manifest.chunks_by_id(leftovers) == {}
    hits = services.retriever.search("How many libraries contacts were recorded?", k=10)
    assert {hit.chunk.chunk_id for hit in hits} <= live

    report = ingest_paths([papers], index)
    assert [(Path(f.path).name, f.outcome) for f in report.files] == [
        ("housing.pdf", Outcome.UNCHANGED),
        ("libraries.pdf", Outcome.ADDED),
        ("transport.pdf", Outcome.ADDED),
    ]
    assert_consistent(settings, services)


def test_papers_read_in_worker_processes_go_in_as_read_here(
    tmp_path: Path, settings: Settings, make_services: MakeServices
) -> None:
    papers = tmp_path / "papers"
    papers.mkdir()
    for topic in TOPICS:  # enough papers for the pipeline to start a worker
        _write_markdown(papers / f"{topic}.md", topic)
    shutil.copy(KEY_POINTS, papers / KEY_POINTS.name)
    here = make_services(settings)
    in_workers = make_services(Settings(data_dir=tmp_path / "workers"))

    read_here = ingest_paths([papers], here.index, workers=0)
    read_there = ingest_paths([papers], in_workers.index, workers=1)

    assert read_there.ok
    assert read_there.files == read_here.files
    chunks_here = here.index.manifest.live_chunks()
    chunks_there = in_workers.index.manifest.live_chunks()
    assert [(c.chunk_id, c.text, c.meta) for c in chunks_there] == [
        (c.chunk_id, c.text, c.meta) for c in chunks_here
    ]
    assert_consistent(in_workers.settings, in_workers)


def heavy_modules_loaded() -> list[str]:
    """Run in a worker: which of the modules a reader must never load are loaded."""
    return [name for name in ("torch", "transformers", "chromadb") if name in sys.modules]


def test_a_worker_reads_with_the_tokenizer_alone(
    tmp_path: Path, embeddings: BundledEmbeddings
) -> None:
    paper = tmp_path / "2024-03-01_parks-committee_notes.md"
    paper.write_text("# Parks\n\n" + "\n\n".join(PARKS_TEXT), encoding="utf-8")
    counter = WordPieceCounter(bundled_model_path())
    request = ReadRequest(paper, "parks", ocr=False, chunk_max_tokens=250, held_access="exempt")
    context = multiprocessing.get_context("forkserver")
    reading_end, _alive = multiprocessing.Pipe(duplex=False)
    with ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker,
                             initargs=(counter, reading_end)) as pool:  # fmt: skip
        result: ReadResult = pool.submit(_read_in_worker, request).result()
        loaded = pool.submit(heavy_modules_loaded).result()
    assert loaded == []
    assert result.paper is not None
    assert [c.text for c in result.paper.chunks] == [
        c.text
        for c in _read_here(request, counter).paper.chunks  # type: ignore[union-attr]
    ]
    # the counts are the embedder's own
    texts = [c.context_text() for c in result.paper.chunks] + ["Café naïve — “quoted” ﬁne"]
    assert [counter(t) for t in texts] == [embeddings.count_tokens(t) for t in texts]


def _read_here(request: ReadRequest, counter: WordPieceCounter) -> ReadResult:
    with ParseAhead(counter, workers=0) as ahead:
        return next(iter(ahead.results([request])))


def test_a_worker_reads_only_where_reading_is_heavy(tmp_path: Path) -> None:
    def requests(names: list[str]) -> list[ReadRequest]:
        return [ReadRequest(tmp_path / name, name, False, 250, "exempt") for name in names]

    pdfs = [f"{topic}.pdf" for topic in TOPICS]
    markdown = [f"{topic}.md" for topic in TOPICS]
    assert parse_workers(requests(pdfs)) == 1
    assert parse_workers(requests(pdfs[:4] + markdown[:4])) == 1
    assert parse_workers(requests(pdfs[:3] + markdown[:5])) == 0  # mostly markdown: quick
    assert parse_workers(requests(pdfs[:7])) == 0  # too few to pay for a worker's start


def _gone(pid: int) -> bool:
    """Whether the process has ended (gone, or a zombie its parent has not reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def test_a_reader_process_ends_when_its_ingest_is_gone() -> None:
    """A reader waits on a pipe only the ingest writes to; when that end closes, as it does
    when the ingest is killed, the reader ends instead of holding the ingest's output open."""
    reading_end, alive = multiprocessing.Pipe(duplex=False)
    context = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(
        1, mp_context=context, initializer=_start_worker, initargs=(approximate_tokens, reading_end)
    )
    try:
        pid = pool.submit(os.getpid).result()
        time.sleep(1)
        assert not _gone(pid)  # alive while its ingest is
        alive.close()
        deadline = time.monotonic() + 30
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(pid)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
