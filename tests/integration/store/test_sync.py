"""Folder sync: add, change and remove by content hash; one sync at a time; a sync killed with
SIGKILL and run again leaves a complete index without duplicates; queries during a sync see
each document whole, in one version."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest
from conftest import ROOT, MakeServices
from papers import make_pdf, pdf_folder

from ingest.pipeline import EMBED_BATCH, FileReport, Outcome
from ingest.schedule import Every, folder_state, parse_interval, run_schedule, stop_on_signals
from ingest.sync import SyncBusyError, sync_folders, sync_lock
from service.cli.main import main
from service.container import Services
from service.settings import Settings

TOPICS = ["housing", "transport", "libraries", "waste", "parks", "schools", "policing", "care"]


def _assert_consistent(services: Services) -> None:
    """Manifest and Chroma agree, and no document holds a chunk twice."""
    live = services.index.manifest.live_chunks()
    assert sorted(c.chunk_id for c in live) == sorted(services.index.chroma_ids())
    per_doc = Counter((c.doc_id, c.text) for c in live)
    assert max(per_doc.values(), default=1) == 1
    for doc in services.index.documents():
        assert sum(1 for c in live if c.doc_id == doc.meta.doc_id) == doc.chunk_count


def test_sync_adds_changes_and_removes(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    folder = pdf_folder(tmp_path / "papers", TOPICS[:3])
    services = make_services(settings)

    first = sync_folders([folder], services.index)
    assert first.ok
    assert first.count(Outcome.ADDED) == 3
    assert not first.removed
    old_version = services.index.version_of("housing")

    make_pdf(folder / "housing.pdf", "housing", pages=3, revision=2)  # changed
    (folder / "transport.pdf").unlink()  # gone
    make_pdf(folder / "parks.pdf", "parks")  # new
    second = sync_folders([folder], services.index)
    outcomes = {Path(f.path).stem: f.outcome for f in second.files}
    assert outcomes == {
        "housing": Outcome.UPDATED, "libraries": Outcome.UNCHANGED, "parks": Outcome.ADDED,
    }  # fmt: skip
    assert [(r.doc_id, r.kept) for r in second.removed] == [("transport", False)]
    assert services.index.version_of("housing") != old_version
    assert sorted(d.meta.doc_id for d in services.index.documents()) == [
        "housing", "libraries", "parks",
    ]  # fmt: skip
    assert services.index.manifest.extraction("housing") is not None
    _assert_consistent(services)

    (folder / "parks.pdf").unlink()
    kept = sync_folders([folder], services.index, keep_removed=True)
    assert [(r.doc_id, r.kept) for r in kept.removed] == [("parks", True)]
    assert services.index.document("parks") is not None
    # A paper recorded outside the synced folder is none of this sync's business.
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert not sync_folders([other], services.index).removed
    assert len(services.index.documents()) == 3


def test_sync_tells_every_file_in_order_and_backfills_a_missing_extraction(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    folder = pdf_folder(tmp_path / "papers", TOPICS[:2])
    services = make_services(settings)
    assert sync_folders([folder], services.index).ok
    # As an ingest from before extraction existed left the paper: live, with no extraction.
    with closing(sqlite3.connect(settings.manifest_path)) as connection, connection:
        connection.execute("DELETE FROM extractions WHERE doc_id = ?", (TOPICS[0],))
    assert services.index.manifest.extraction(TOPICS[0]) is None

    make_pdf(folder / "parks.pdf", "parks")
    (folder / "budget.xlsx").write_bytes(b"not read here")
    told: list[FileReport] = []
    report = sync_folders([folder], services.index, on_file=told.append)
    assert [(Path(f.path).name, f.outcome) for f in told] == [
        ("budget.xlsx", Outcome.NOT_READ),
        ("housing.pdf", Outcome.UNCHANGED),
        ("parks.pdf", Outcome.ADDED),
        ("transport.pdf", Outcome.UNCHANGED),
    ]
    assert report.files == told
    assert services.index.manifest.extraction(TOPICS[0]) is not None
    _assert_consistent(services)


def test_a_second_sync_is_refused_while_one_holds_the_lock(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    make_pdf(folder / "waste.pdf", "waste")
    services = make_services(settings)
    with (
        sync_lock(settings.data_dir),
        pytest.raises(SyncBusyError, match="another sync or ingest is running"),
    ):
        sync_folders([folder], services.index, wait=0.5)
    assert services.index.documents() == []
    assert sync_folders([folder], services.index).count(Outcome.ADDED) == 1  # lock released


def test_ingest_and_remove_wait_their_turn_behind_a_sync(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paper = make_pdf(tmp_path / "waste.pdf", "waste")
    data = ["--data-dir", str(settings.data_dir)]
    with sync_lock(settings.data_dir):
        assert main([*data, "ingest", "--quiet", str(paper)]) == 75
        assert "another sync or ingest is running" in capsys.readouterr().err
        assert main([*data, "remove", "waste"]) == 75
    assert main([*data, "ingest", "--quiet", str(paper)]) == 0  # lock released
    assert main([*data, "remove", "waste"]) == 0


def _live_documents(manifest_path: Path) -> int:
    try:
        with sqlite3.connect(manifest_path, timeout=5) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.faults
def test_sigkill_mid_sync_then_rerun_leaves_a_complete_index(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    # Sync publishes papers a batch of chunks at a time: the first paper by name (about three
    # chunks a page) and a few after it fill the first batch, the rest wait for a second; the
    # kill falls between the two.
    first, *others = sorted(TOPICS)
    make_pdf(folder / f"{first}.pdf", first, pages=EMBED_BATCH // 3)
    for topic in others:
        make_pdf(folder / f"{topic}.pdf", topic, pages=6)
    command = [str(ROOT / ".venv/bin/boardpapers"), "--data-dir", str(settings.data_dir),
               "sync", str(folder), "--quiet"]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while _live_documents(settings.manifest_path) < 1:  # the first batch is live: mid-run
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "sync never published a document"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL
    assert _live_documents(settings.manifest_path) < len(TOPICS), "killed too late to test"

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(TOPICS)} files:" in rerun.stdout

    services = make_services(settings)
    paths = sorted(Path(d.path).name for d in services.index.documents())
    assert paths == sorted(f"{topic}.pdf" for topic in TOPICS)
    _assert_consistent(services)


@pytest.mark.faults
def test_queries_during_sync_see_each_document_whole_in_one_version(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    topics = TOPICS[:4]
    folder = pdf_folder(tmp_path / "papers", topics, pages=2)
    services = make_services(settings)
    sync_folders([folder], services.index)
    for topic in topics:  # every paper changes, and grows
        make_pdf(folder / f"{topic}.pdf", topic, pages=4, revision=2)

    problems: list[str] = []
    observations = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal observations
        connection = sqlite3.connect(settings.manifest_path, timeout=30)
        while not done.is_set():
            # One read transaction: the documents and chunks a query would see together.
            rows = connection.execute(
                "SELECT d.doc_id, d.version, d.chunk_count, c.version, c.ordinal FROM documents d "
                "JOIN chunks c ON c.doc_id = d.doc_id AND c.version = d.version"
            ).fetchall()
            seen: dict[str, list[int]] = {}
            for doc_id, _, expected, _, ordinal in rows:
                seen.setdefault(doc_id, []).append(ordinal)
                if len(seen[doc_id]) > expected:
                    problems.append(f"{doc_id}: more chunks than its {expected}")
            counts = {doc_id: count for doc_id, _, count, _, _ in rows}
            for doc_id, ordinals in seen.items():
                if sorted(ordinals) != list(range(counts[doc_id])):
                    problems.append(f"{doc_id}: saw {len(ordinals)} of {counts[doc_id]} chunks")
            versions_per_doc: dict[str, set[str]] = {}
            for hit in services.retriever.search("progress on the plan", k=30):
                versions_per_doc.setdefault(hit.chunk.doc_id, set()).add(hit.chunk.version)
            problems.extend(f"{d}: two versions in one result" for d, v in versions_per_doc.items()
                            if len(v) > 1)  # fmt: skip
            observations += 1
        connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        report = sync_folders([folder], services.index)
    finally:
        done.set()
        watcher.join()
    assert report.count(Outcome.UPDATED) == len(topics)
    assert observations >= 3, "the watcher hardly ran"
    assert not problems, problems[:5]
    _assert_consistent(services)


def test_sync_cli_reports_and_fails_clearly_on_a_bad_file(tmp_path: Path) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    make_pdf(folder / "libraries.pdf", "libraries")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a PDF")
    data = tmp_path / "cli-data"
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "--data-dir", str(data), "sync", str(folder),
         "--quiet"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "added     libraries.pdf" in result.stdout
    assert "skipped   broken.pdf" in result.stdout
    assert "1 file(s) could not be synced" in result.stderr


def test_a_running_service_sees_vectors_another_process_adds(
    tmp_path: Path, settings: Settings, make_services: MakeServices
) -> None:
    """An embedded Chroma client builds its search graph at its first query and never sees
    what another process adds after it; the service must still find a paper a separate
    `boardpapers sync` added, by meaning as well as by keyword."""
    folder = tmp_path / "papers"
    folder.mkdir()
    make_pdf(folder / "housing.pdf", "housing")
    services = make_services(settings)
    sync_folders([folder], services.index)
    question = "How many contacts did the waste service record?"
    assert all(hit.chunk.doc_id == "housing" for hit in services.retriever.search(question, k=3))

    make_pdf(folder / "waste.pdf", "waste")
    command = [sys.executable, "-m", "service.cli", "--data-dir", str(settings.data_dir)]
    done = subprocess.run([*command, "sync", str(folder)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    hits = services.retriever.search(question, k=3)
    assert hits[0].chunk.doc_id == "waste"
    assert all(hit.dense is not None for hit in hits if hit.chunk.doc_id == "waste")


# -- on a schedule (`sync --every`, `--watch`): the loop here, the command in
# tests/integration/test_container_files.py, as compose.yaml runs it


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("1.5h", 5400), (" 2M ", 120)],
)
def test_an_interval_is_read_in_seconds_minutes_or_hours(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["15", "15x", "", "m", "0m", "15 m", "1d"])
def test_a_bad_interval_is_refused_saying_what_to_give(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sync", str(tmp_path), "--every", text])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert f"argument --every: '{text}' is" in error
    assert "e.g. 15m" in error or "e.g. 30s, 15m, 1h" in error


def test_settle_is_refused_without_watch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", str(tmp_path), "--every", "1m", "--settle", "2s"]) == 2
    assert "--settle is for --watch" in capsys.readouterr().err


def test_a_schedule_goes_on_after_a_failed_round_and_keeps_its_interval() -> None:
    stop = threading.Event()
    starts: list[float] = []
    errors: list[Exception] = []

    def sync_round() -> None:
        starts.append(time.monotonic())
        if len(starts) == 2:
            raise SyncBusyError("another sync or ingest is running")
        if len(starts) == 4:
            stop.set()

    assert run_schedule(Every(0.3), sync_round, errors.append, stop) == 4
    assert [str(error) for error in errors] == ["another sync or ingest is running"]
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert all(0.29 <= gap < 3 for gap in gaps), gaps


def test_sigterm_ends_a_schedule_after_its_round_and_during_its_wait() -> None:
    before = signal.getsignal(signal.SIGTERM)
    finished: list[int] = []
    errors: list[Exception] = []

    def sync_round() -> None:  # the first round is told to stop half way, and finishes
        if not finished:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.3)
        finished.append(len(finished) + 1)

    with stop_on_signals() as stop:
        started = time.monotonic()
        assert run_schedule(Every(3600), sync_round, errors.append, stop) == 1
    assert finished == [1]
    assert time.monotonic() - started < 30  # not an hour
    assert signal.getsignal(signal.SIGTERM) == before

    with stop_on_signals() as stop:  # now between rounds, in the hour's wait
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM)).start()
        started = time.monotonic()
        assert run_schedule(Every(3600), lambda: None, errors.append, stop) == 1
    assert time.monotonic() - started < 30
    assert errors == []


def test_a_watched_folder_changes_with_its_papers_not_hidden_files(tmp_path: Path) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    paper = make_pdf(folder / "housing.pdf", "housing")
    seen = folder_state([folder])
    assert seen == folder_state([folder])
    (folder / ".housing.pdf.part").write_bytes(b"%PDF")  # a copy not yet renamed into place
    (folder / "~$minutes.docx").write_bytes(b"lock")  # Word's lock file
    (folder / ".git").mkdir()
    (folder / ".git" / "index").write_bytes(b"git")
    assert folder_state([folder]) == seen
    stat = paper.stat()
    os.utime(paper, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # touched
    touched = folder_state([folder])
    assert touched != seen
    paper.rename(folder / "housing-2024.pdf")
    assert folder_state([folder]) not in (seen, touched)
    renamed = folder_state([folder])
    (folder / "archive").mkdir()
    make_pdf(folder / "archive" / "waste.pdf", "waste")  # below, too
    assert folder_state([folder]) != renamed
