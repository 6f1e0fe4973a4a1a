"""The ingest pipeline: files → pages → blocks → chunks → index, with a per-file report.

Idempotent: an unchanged file, recognised by its SHA-256 and the reading rules' number
(`versions.py`), costs no parsing or embedding. A pipeline: files are read ahead of the
embedder (`parse_ahead.py`, in worker processes if asked), and the chunks of several files
are embedded in one model call, then each file is published on its own once all its vectors
are in (`PaperIndex.replace_documents`). Resumable: a run that dies leaves every published
file live and the next run sweeps the rest. A file that cannot be read is reported with its
reason and skipped; the batch goes on. Reports come in the files' order.

A document's id is given once and kept (`assign_document_ids`): a flat folder's papers are
known by their file names, namesakes by their paths; a file moved or renamed with its bytes
keeps its id and vectors. Symbolic links out of the folders are refused (`find_papers`), and a
folder's files of a type not read here are reported as skipped, with what to do about them.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from tqdm import tqdm

from ingest.models import DocumentMeta, Line, Page
from ingest.parse_ahead import ParseAhead
from ingest.parsing import ReadPaper, ReadRequest, ReadResult, token_counter
from ingest.reading.loaders import (
    SUPPORTED_SUFFIXES,
    UnreadableFileError,
    sha256_of,
    unsupported_reason,
)
from ingest.reading.metadata import SIDECAR_NAME, document_id_candidates, read_sidecar
from ingest.reading.restriction import FRONT_PAGES
from ingest.reading.versions import document_version
from ingest.restriction_verdicts import RestrictionVerdicts
from ingest.store.index import NewVersion, PaperIndex
from ingest.store.manifest import StoredDocument

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    MOVED = "moved"  # the same bytes at a new place: same id, same chunks and vectors
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # the file gives no usable text, or is refused; the reason says why
    # A folder's file of a type not read here (a spreadsheet, an old .doc): told once per run
    # with what to do, but not a failure, so a sync from cron does not fail for ever over it.
    NOT_READ = "not read"
    FAILED = "failed"  # something went wrong on our side; the reason says what


@dataclass
class FileReport:
    path: str
    outcome: Outcome
    doc_id: str | None = None
    pages: int = 0
    chunks: int = 0
    reason: str | None = None
    repairs: tuple[str, ...] = ()  # read, but the PDF reader had to mend it: worth a look
    moved_from: str | None = None  # the path the document was recorded at before this run
    access_note: str | None = None  # why the paper is held from the public, or its new level
    ocr_pages: tuple[int, ...] = ()  # the pages whose text was read by OCR (scanned pages)
    inferred: str | None = None  # the metadata no sidecar gave, as read from the paper


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for f in self.files if f.outcome is outcome)

    @property
    def ok(self) -> bool:
        return not any(f.outcome in (Outcome.SKIPPED, Outcome.FAILED) for f in self.files)

    @property
    def embedded_chunks(self) -> int:
        embedding = (Outcome.ADDED, Outcome.UPDATED, Outcome.MOVED)
        return sum(f.chunks for f in self.files if f.outcome in embedding)


@dataclass(frozen=True)
class SourceFile:
    """A paper found to ingest. `path` is where it was found, and is read from (through a
    symbolic link that stays inside the folder); `root` is the folder it was found in,
    resolved (a file named on its own: its folder); `relative` its path in there."""

    path: Path
    root: Path
    relative: PurePosixPath

    @property
    def location(self) -> Path:
        """The path the index records: inside the folder, never a link's target, so the paper
        goes when its file or link goes and `/documents/{id}/file` serves what is in there."""
        return self.root / self.relative


@dataclass
class FoundPapers:
    files: list[SourceFile] = field(default_factory=list)
    # links out of the folders, and files of a type not read here
    refused: list[FileReport] = field(default_factory=list)


def find_papers(paths: Iterable[Path]) -> FoundPapers:
    """Files named, and supported files found under folders named, in a stable order; each
    file once however many ways it is reached. A symbolic link whose target is outside the
    folder it is in (and outside every folder named) is refused with its reason: a synced
    folder never serves a file from elsewhere."""
    named = list(paths)
    folders = [path.resolve() for path in named if path.is_dir()]
    reached: list[tuple[SourceFile, bool]] = []  # (file, reached through a link)
    found = FoundPapers()
    for path in named:
        if path.is_dir():
            root = path.resolve()
            entries = [(entry, entry.relative_to(path)) for entry in _folder_entries(path)]
            found.refused.extend(
                FileReport(str(entry), Outcome.NOT_READ, reason=unsupported_reason(entry.suffix))
                for entry in _unsupported_files(path)
            )
        else:
            root = path.parent.resolve()
            entries = [(path, Path(path.name))]
        for entry, relative in entries:
            source = SourceFile(entry, root, PurePosixPath(relative.as_posix()))
            if not entry.is_symlink():
                reached.append((source, False))
                continue
            target = entry.resolve()
            if any(target.is_relative_to(allowed) for allowed in (root, *folders)):
                if not entry.is_dir():  # a folder in there is walked at its own place
                    reached.append((source, True))
                continue
            kind, fix = ("folder", "its papers") if entry.is_dir() else ("file", "the file")
            where = "the synced folder" if path.is_dir() else "its folder"
            found.refused.append(FileReport(
                str(entry), Outcome.SKIPPED,
                reason=f"a symbolic link to a {kind} outside {where} ({target}); "
                       f"copy {fix} in instead",
            ))  # fmt: skip
    # One document per file: the file itself wins over links to it, else the first link.
    chosen: dict[Path, int] = {}
    for position, (source, through_link) in enumerate(reached):
        target = source.path.resolve()
        earlier = chosen.get(target)
        if earlier is None or (reached[earlier][1] and not through_link):
            chosen[target] = position
    found.files = [reached[position][0] for position in sorted(chosen.values())]
    dropped = len(reached) - len(found.files)
    if dropped:
        log.info("%d path(s) reach a file found already; each file is ingested once", dropped)
    return found


def _folder_entries(folder: Path) -> list[Path]:
    """The supported files under `folder`, and the links to folders in it (not walked into:
    a link out of the folder is refused, and one inside leads to papers found anyway)."""
    entries: list[Path] = []
    for directory, folder_names, file_names in os.walk(folder):  # links not followed
        here = Path(directory)
        entries.extend(
            here / name for name in folder_names
            if not name.startswith(".") and (here / name).is_symlink()
        )  # fmt: skip
        entries.extend(
            here / name for name in file_names
            if (here / name).is_file() and Path(name).suffix.lower() in SUPPORTED_SUFFIXES
            and name != SIDECAR_NAME and not _is_project_note(here / name)
        )  # fmt: skip
    return sorted(entries)


# What a file manager or an editor leaves in a folder: not papers, and not worth a line.
_SYSTEM_FILES = {"thumbs.db", "desktop.ini", "icon\r"}


def _unsupported_files(folder: Path) -> list[Path]:
    """The files under `folder` of a type not read here (a spreadsheet, an old .doc): each is
    reported with what to do, not passed over in silence. Links are left to `find_papers`."""
    unsupported: list[Path] = []
    for directory, folder_names, file_names in os.walk(folder):
        folder_names[:] = [name for name in folder_names if not name.startswith(".")]  # .git
        here = Path(directory)
        unsupported.extend(
            here / name for name in file_names
            if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES
            and not (here / name).is_symlink() and (here / name).is_file()
            and name != SIDECAR_NAME and name.lower() not in _SYSTEM_FILES
            and not name.startswith("~$") and not _is_project_note(here / name)
        )  # fmt: skip
    return sorted(unsupported)


def _is_project_note(path: Path) -> bool:
    # A folder of papers may carry its own README/PROVENANCE/LICENSE: notes about the papers,
    # not papers. Hidden files are never papers either.
    return path.name.startswith(".") or path.stem.upper() in {"README", "PROVENANCE", "LICENSE"}


def assign_document_ids(
    files: Sequence[SourceFile], index: PaperIndex, *, keep_gone: bool = False
) -> list[str]:
    """Each file's document id: stable across runs, and never one document for two files.

    1. A file the index records at its location keeps its document's id.
    2. A file with the bytes of a document whose file has gone (moved, renamed) takes that
       document's id: `ingest_file` then records the new place without embedding again.
    3. Any other takes the first of its `document_id_candidates` that no document whose file
       is still there holds, and that no other file of the run wants in the same round:
       `minutes.pdf` in `a/` and `b/` get `a-minutes` and `b-minutes` (neither plain
       `minutes`), a flat folder's papers keep their file names (today's ids), and a paper
       at the top keeps its name beside a namesake in a sub-folder. A document whose file
       has gone gives its id up to a new file of its name (that file replaces it, as before),
       unless `keep_gone` (`sync --keep-removed`) keeps it.
    """
    stored = index.documents()
    # Where an older release recorded two documents at one file (a link read as well as the
    # file), the file keeps the one recorded under its own name: put last, it wins.
    by_own_name = sorted(stored, key=lambda doc: Path(doc.path).name == doc.meta.source)
    recorded_at = {doc.path: doc.meta.doc_id for doc in by_own_name}
    # Also by the file the path leads to: a path recorded in another spelling of it.
    recorded_file = {os.path.realpath(doc.path): doc.meta.doc_id for doc in by_own_name}
    ids: list[str | None] = [
        recorded_at.get(str(source.location)) or recorded_file.get(os.path.realpath(source.path))
        for source in files
    ]
    held = {doc_id for doc_id in ids if doc_id is not None}
    gone: dict[str, list[StoredDocument]] = {}  # by version
    for doc in stored:
        if doc.meta.doc_id in held:
            continue
        if Path(doc.path).is_file():
            held.add(doc.meta.doc_id)
        else:
            gone.setdefault(doc.version, []).append(doc)
            if keep_gone:
                held.add(doc.meta.doc_id)
    pending = [position for position, doc_id in enumerate(ids) if doc_id is None]
    if gone:
        for position in pending:
            try:
                version = document_version(
                    sha256_of(files[position].path), index.settings.chunk_max_tokens
                )
            except OSError:
                continue  # unreadable: `ingest_file` reports it
            if gone.get(version):
                moved_id = gone[version].pop(0).meta.doc_id
                ids[position] = moved_id
                held.add(moved_id)
        pending = [position for position in pending if ids[position] is None]
    # Every file bids, round by round, for its next candidate: an id that two files of this
    # run want in the same round goes to neither (so neither `a/minutes.pdf` nor a later
    # `c/minutes.pdf` is plain `minutes` while another `minutes.pdf` is there), and a file
    # that has its id already still bids, so a newcomer does not take what it would have.
    wanted = [document_id_candidates(source.relative, source.root.name) for source in files]
    for round_number in range(len(wanted[0]) if wanted else 0):
        bids = Counter(candidates[round_number] for candidates in wanted)
        for position in pending:
            doc_id = wanted[position][round_number]
            if bids[doc_id] == 1 and doc_id not in held:
                ids[position] = doc_id
                held.add(doc_id)
        pending = [position for position in pending if ids[position] is None]
    for position in pending:  # even the digests alike (or taken): numbered, in file order
        base, number = wanted[position][-1], 2
        while f"{base}-{number}" in held:
            number += 1
        ids[position] = f"{base}-{number}"
        held.add(f"{base}-{number}")
    assigned = [doc_id for doc_id in ids if doc_id is not None]
    assert len(assigned) == len(files), "every file has an id by now"
    return assigned


# Chunks embedded together: several papers' worth in one model call, sorted by length, so
# the model pads less than paper by paper (on the archive's markdown, 0.96 of the model's
# raw rate against 0.85 a paper at a time); a crash loses at most this much work, and holds
# back at most this many papers' reports.
EMBED_BATCH = 512
# Files read ahead of the embedder: enough for the next batch, and a bound on memory.
PARSE_DEPTH = 32
# A worker process reads the files when this many or more are to be read, most of them PDFs:
# on 2 cores it then saves 3-10% (the 32 Kent PDFs), while markdown, read in a few
# milliseconds, loses 3% to it (the worker's start, and its share of the cores).
_WORTH_A_WORKER = 8
_HEAVY_SUFFIXES = frozenset({".pdf"})


def ingest_paths(
    paths: Iterable[Path],
    index: PaperIndex,
    *,
    progress: bool = False,
    on_file: Callable[[FileReport], None] | None = None,
    workers: int | None = None,
) -> IngestReport:
    """Ingest the files named and the supported files under the folders named (see
    `ingest_files`; `workers`: processes reading files, by default as `parse_workers` says)."""
    found = find_papers(paths)
    index.sweep()
    report = IngestReport()
    for refusal in found.refused:
        report.files.append(refusal)
        if on_file:
            on_file(refusal)
    doc_ids = assign_document_ids(found.files, index)
    work = list(zip(found.files, doc_ids, strict=True))
    report.files += ingest_files(work, index, progress=progress, on_file=on_file, workers=workers)
    index.refresh_keyword_index()
    return report


def ingest_file(source: SourceFile, doc_id: str, index: PaperIndex) -> FileReport:
    """Read one file into the document `doc_id` (see `assign_document_ids`)."""
    return ingest_files([(source, doc_id)], index)[0]


def ingest_files(
    work: Sequence[tuple[SourceFile, str]],
    index: PaperIndex,
    *,
    progress: bool = False,
    on_file: Callable[[FileReport], None] | None = None,
    desc: str = "Ingesting",
    workers: int | None = None,
) -> list[FileReport]:
    """Read each file into its document (see `assign_document_ids`), as a pipeline: files are
    read ahead (in `workers` processes, if any; by default as `parse_workers` says), their
    chunks embedded `EMBED_BATCH` at a time across files, and each file published once all
    its vectors are in. Reports come in the order of `work`, each through `on_file` as its
    file is done."""
    bar = tqdm(total=len(work), desc=desc, unit="file", disable=not progress, leave=True)
    batch = _Batch(index, _Reporter(bar, on_file))
    verdicts = RestrictionVerdicts(index.settings.data_dir / "restriction-verdicts.json")
    slots = [_triage(source, doc_id, index, verdicts) for source, doc_id in work]
    if verdicts.changed:
        verdicts.save(index.live_versions())
    requests = [slot.request for slot in slots if slot.request is not None]
    reading = parse_workers(requests) if workers is None else workers
    with ParseAhead(token_counter(index.embeddings), workers=reading, depth=PARSE_DEPTH) as ahead:
        results = ahead.results(requests)
        for slot in slots:
            if slot.request is None:
                batch.add(slot)
                continue
            bar.set_postfix_str(slot.source.path.name[-40:], refresh=False)
            _settle(slot, next(results), index)
            batch.add(slot)
            if batch.chunks >= EMBED_BATCH:
                batch.write()
        batch.write()
    bar.close()
    return batch.reporter.reports


def parse_workers(requests: Sequence[ReadRequest]) -> int:
    """Worker processes worth starting to read these files (see `_WORTH_A_WORKER`)."""
    heavy = sum(request.path.suffix.lower() in _HEAVY_SUFFIXES for request in requests)
    return 1 if len(requests) >= _WORTH_A_WORKER and 2 * heavy >= len(requests) else 0


@dataclass
class _Slot:
    """One file on its way through: settled with a report, or read into a new version to
    write (`paper`), or still to read (`request`)."""

    source: SourceFile
    doc_id: str
    live: StoredDocument | None = None
    request: ReadRequest | None = None
    report: FileReport | None = None
    paper: ReadPaper | None = None


class _Reporter:
    def __init__(self, bar: tqdm[Any], on_file: Callable[[FileReport], None] | None) -> None:
        self.bar = bar
        self.on_file = on_file
        self.reports: list[FileReport] = []

    def __call__(self, report: FileReport) -> None:
        self.reports.append(report)
        self.bar.update()
        if self.on_file:
            self.on_file(report)


class _Batch:
    """Files in order, those read into new versions waiting for their vectors; written
    together, then every report told in order."""

    def __init__(self, index: PaperIndex, reporter: _Reporter) -> None:
        self.index = index
        self.reporter = reporter
        self.slots: list[_Slot] = []
        self.chunks = 0

    def add(self, slot: _Slot) -> None:
        if slot.paper is None and not self.slots:
            assert slot.report is not None
            self.reporter(slot.report)  # nothing before it waits: told at once
            return
        self.slots.append(slot)
        self.chunks += len(slot.paper.chunks) if slot.paper is not None else 0

    def write(self) -> None:
        self.reporter.bar.refresh()  # the files told since its last redraw, before a long wait
        waiting = [slot for slot in self.slots if slot.paper is not None]
        versions = [_new_version(slot) for slot in waiting]
        for slot, error in zip(waiting, self.index.replace_documents(versions), strict=True):
            slot.report = _written(slot) if error is None else _failed(slot, error)
        for slot in self.slots:
            assert slot.report is not None
            self.reporter(slot.report)
            slot.paper = None  # written: its pages and chunks need not stay in memory
        self.slots, self.chunks = [], 0


def _triage(
    source: SourceFile, doc_id: str, index: PaperIndex, verdicts: RestrictionVerdicts
) -> _Slot:
    """Settle at once a file that is unchanged (its access perhaps restated) or gone; else
    say what reading it needs."""
    path, location = source.path, str(source.location)
    slot = _Slot(source, doc_id)
    try:
        if not path.is_file():
            raise UnreadableFileError(path, "not found")
        version = document_version(sha256_of(path), index.settings.chunk_max_tokens)
        slot.live = live = index.document(doc_id)
        if live is not None and live.version == version and live.path == location:
            restated = _access_restated(path, live, index, verdicts)
            if restated is None:
                slot.report = FileReport(str(path), Outcome.UNCHANGED, doc_id, live.pages, 0)
                return slot
            index.restate_document(restated)  # its chunks and vectors stand
            note = f"access {live.meta.access} → {restated.access}, not embedded again"
            slot.report = FileReport(
                str(path), Outcome.UPDATED, doc_id, live.pages, 0, access_note=note
            )
            return slot
    except UnreadableFileError as exc:
        slot.report = FileReport(str(path), Outcome.SKIPPED, doc_id, reason=exc.reason)
        return slot
    except Exception as exc:  # one bad file must not stop the batch; the report carries it
        slot.report = _failed(slot, exc)
        return slot
    settings = index.settings
    slot.request = ReadRequest(
        path, doc_id, settings.ocr, settings.chunk_max_tokens, settings.held_access
    )
    return slot


def _settle(slot: _Slot, result: ReadResult, index: PaperIndex) -> None:
    """After reading: report a file that gives no paper, record a moved one in its new place,
    or keep its paper for the batch to write."""
    path, live = slot.source.path, slot.live
    if result.skipped is not None:
        slot.report = FileReport(str(path), Outcome.SKIPPED, slot.doc_id, reason=result.skipped)
        return
    if result.paper is None:
        log.error("ingest failed for %s\n%s", path, result.trace or "")
        slot.report = FileReport(str(path), Outcome.FAILED, slot.doc_id, reason=result.failed)
        return
    paper = result.paper
    if live is not None and live.version == paper.version and live.meta.title == paper.meta.title:
        # The same bytes at a new place: its chunks and vectors stand. Only the place, and
        # what the new name and folder's sidecar say of it (date, access…), change.
        try:
            index.move_document(paper.meta, str(slot.source.location))
        except Exception as exc:
            slot.report = _failed(slot, exc)
            return
        slot.report = FileReport(
            str(path), Outcome.MOVED, slot.doc_id, live.pages, 0,
            repairs=paper.repairs, moved_from=_moved_from(slot),
            access_note=paper.access_note, ocr_pages=paper.ocr_pages,
        )  # fmt: skip
        return
    # (Moved to where it is called otherwise: the title is in every chunk's vector.)
    slot.paper = paper


def _new_version(slot: _Slot) -> NewVersion:
    paper = slot.paper
    assert paper is not None
    return NewVersion(
        paper.meta, paper.version, str(slot.source.location), paper.pages, paper.chunks,
        paper.extraction_json,
    )  # fmt: skip


def _written(slot: _Slot) -> FileReport:
    paper, live = slot.paper, slot.live
    assert paper is not None
    if live is None:
        outcome = Outcome.ADDED
    else:
        outcome = Outcome.MOVED if live.version == paper.version else Outcome.UPDATED
    return FileReport(
        str(slot.source.path), outcome, slot.doc_id, len(paper.pages), len(paper.chunks),
        repairs=paper.repairs, moved_from=_moved_from(slot), access_note=paper.access_note,
        ocr_pages=paper.ocr_pages, inferred=paper.inferred,
    )  # fmt: skip


def _moved_from(slot: _Slot) -> str | None:
    live, location = slot.live, str(slot.source.location)
    return live.path if live is not None and live.path != location else None


def _failed(slot: _Slot, error: Exception) -> FileReport:
    log.error("ingest failed for %s", slot.source.path, exc_info=error)
    reason = f"{type(error).__name__}: {error}"
    return FileReport(str(slot.source.path), Outcome.FAILED, slot.doc_id, reason=reason)


def _access_restated(
    path: Path, live: StoredDocument, index: PaperIndex, verdicts: RestrictionVerdicts
) -> DocumentMeta | None:
    """The live document's metadata with its access as the sidecar now gives it, or, where
    the sidecar gives none, as the paper's own marks do (read from its stored pages); None
    when unchanged. So an edited sidecar takes effect on the next run, embedding nothing."""
    entry = read_sidecar(path.parent).get(path.name, {})
    if entry.get("access"):
        access = str(entry["access"])
    else:

        def front_pages() -> list[Page]:
            texts = index.manifest.page_texts(live.meta.doc_id, first=FRONT_PAGES)
            return [
                Page(n, tuple(Line(line) for line in texts[n].split("\n"))) for n in sorted(texts)
            ]

        marked = verdicts.marked(live.version, front_pages)
        access = index.settings.held_access if marked else "public"
    return None if access == live.meta.access else replace(live.meta, access=access)
