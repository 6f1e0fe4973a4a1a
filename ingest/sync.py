"""Folder sync: make the index match one or more folders of papers, by content hash.

New files are ingested, changed ones re-ingested, and documents whose file has gone from a
synced folder are removed (unless asked to keep them). A file moved or renamed with its bytes
keeps its document (id, chunks, vectors: "moved"); a symbolic link out of the folder is
refused with its reason. Documents are identified as `ingest.pipeline.assign_document_ids`
says: by file name in a flat folder, by path where names collide. Safe to run from cron beside a
serving process: one sync at a time (an exclusive lock on `data_dir/sync.lock`), and every
document switches version in one transaction (see `ingest.index`), so a query never sees half
a document. Files go through the ingest pipeline (`ingest.pipeline.ingest_files`): the
chunks of several papers are embedded together and each paper is published once its vectors
are in. Killed at any point, the next run sweeps the leftovers and finishes the job.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ingest.pipeline import (
    FileReport,
    Outcome,
    assign_document_ids,
    find_papers,
    ingest_files,
)
from ingest.reading.extraction import extract
from ingest.reading.loaders import UnreadableFileError, load_file
from ingest.reading.structure import blocks_from_pages
from ingest.reading.versions import document_version
from ingest.store.disk_full import DataDiskFull, is_disk_full
from ingest.store.index import PaperIndex

log = logging.getLogger(__name__)

LOCK_NAME = "sync.lock"


class SyncBusyError(RuntimeError):
    """Another sync holds the lock on this data folder."""


@dataclass
class RemovedDocument:
    doc_id: str
    path: str
    kept: bool  # --keep-removed: the file has gone but the document stays searchable


@dataclass
class SyncReport:
    files: list[FileReport] = field(default_factory=list)
    removed: list[RemovedDocument] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for f in self.files if f.outcome is outcome)

    @property
    def failures(self) -> list[FileReport]:
        return [f for f in self.files if f.outcome in (Outcome.SKIPPED, Outcome.FAILED)]

    @property
    def ok(self) -> bool:
        return not self.failures


@contextmanager
def sync_lock(data_dir: Path, wait: float = 0.0, database_url: str | None = None) -> Iterator[None]:
    """Hold the data folder's sync lock, and the shared database's when there is one (every
    replica writes to it); wait up to `wait` seconds for them, then give up.

    flock locks die with their process, so a sync killed with SIGKILL never leaves the
    folder locked; so does the database's, with its connection."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        handle: IO[str] = (data_dir / LOCK_NAME).open("a+")
    except OSError as error:
        if is_disk_full(error, data_dir):
            raise DataDiskFull() from error
        raise
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                    raise SyncBusyError(
                        f"another sync or ingest is running on {data_dir} (process {holder}); "
                        "try again when it has finished, or pass --wait SECONDS"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        if database_url is None:
            yield
            return
        from ingest.store.postgres import shown_url, writers_lock

        with writers_lock(database_url, max(0.0, deadline - time.monotonic())) as held:
            if not held:
                raise SyncBusyError(
                    f"another replica is ingesting into {shown_url(database_url)}; try again "
                    "when it has finished, or pass --wait SECONDS"
                )
            yield
    finally:
        handle.close()  # closing the file releases the lock


def sync_folders(
    folders: Sequence[Path],
    index: PaperIndex,
    *,
    keep_removed: bool = False,
    progress: bool = False,
    wait: float = 0.0,
    on_file: Callable[[FileReport], None] | None = None,
) -> SyncReport:
    """Ingest new and changed files under `folders`, and remove documents whose file has gone
    from them; each file's report goes to `on_file` in order, once its paper is live. Raises
    `SyncBusyError` when another sync holds the lock past `wait`."""
    with sync_lock(index.settings.data_dir, wait, index.settings.database_url):
        index.sweep()  # leftovers of a run that was killed
        report = SyncReport()
        found = find_papers(folders)
        for refusal in found.refused:  # links out of the folders: reported, never read
            report.files.append(refusal)
            if on_file:
                on_file(refusal)
        doc_ids = assign_document_ids(found.files, index, keep_gone=keep_removed)

        def told(result: FileReport) -> None:
            if result.outcome is Outcome.UNCHANGED and result.doc_id is not None:
                _backfill_extraction(Path(result.path), result.doc_id, index)
            report.files.append(result)
            if on_file:
                on_file(result)

        work = list(zip(found.files, doc_ids, strict=True))
        ingest_files(work, index, progress=progress, on_file=told, desc="Syncing")
        report.removed = _remove_gone(folders, index, keep_removed)
        index.refresh_keyword_index()
    return report


def _remove_gone(folders: Sequence[Path], index: PaperIndex, keep: bool) -> list[RemovedDocument]:
    """Documents recorded under a synced folder whose file is no longer there."""
    roots = [folder.resolve() for folder in folders]
    removed: list[RemovedDocument] = []
    for stored in index.documents():
        path = Path(stored.path)
        if path.is_file() or not any(path.is_relative_to(root) for root in roots):
            continue
        if not keep:
            index.remove_document(stored.meta.doc_id)
        removed.append(RemovedDocument(stored.meta.doc_id, stored.path, kept=keep))
    return removed


def _backfill_extraction(path: Path, doc_id: str, index: PaperIndex) -> None:
    """Give a document ingested before extraction existed its recommendations and agenda."""
    if index.manifest.extraction(doc_id) is not None:
        return
    try:
        loaded = load_file(path, ocr=index.settings.ocr)
    except UnreadableFileError:
        return
    live = index.document(doc_id)
    if live is None or live.version != document_version(
        loaded.sha256, index.settings.chunk_max_tokens
    ):
        return
    blocks = blocks_from_pages(loaded.pages)
    index.store_extraction(doc_id, live.version, extract(blocks).to_json())
