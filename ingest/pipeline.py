"""The ingest pipeline: files → pages → blocks → chunks → index, with a per-file report.

Idempotent: an unchanged file, recognised by its SHA-256 and the reading rules' number
(`versions.py`), costs no parsing or embedding. Resumable: each file is published on its own;
a run that dies leaves every finished file live and the next run sweeps the rest. A file that
cannot be read is reported with its reason and skipped; the batch goes on.

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

from tqdm import tqdm

from ingest.models import DocumentMeta, Line, Page
from ingest.reading.chunking import chunk_blocks
from ingest.reading.extraction import extract
from ingest.reading.loaders import (
    SUPPORTED_SUFFIXES,
    UnreadableFileError,
    load_file,
    sha256_of,
    unsupported_reason,
)
from ingest.reading.metadata import (
    SIDECAR_NAME,
    describe,
    document_id_candidates,
    inferred_note,
    read_sidecar,
)
from ingest.reading.ocr import mark_read_by_ocr
from ingest.reading.restriction import FRONT_PAGES, find_restriction
from ingest.reading.structure import blocks_from_pages
from ingest.reading.versions import document_version
from ingest.store.index import PaperIndex
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


def ingest_paths(
    paths: Iterable[Path],
    index: PaperIndex,
    *,
    progress: bool = False,
    on_file: Callable[[FileReport], None] | None = None,
) -> IngestReport:
    found = find_papers(paths)
    index.sweep()
    report = IngestReport()
    for refusal in found.refused:
        report.files.append(refusal)
        if on_file:
            on_file(refusal)
    doc_ids = assign_document_ids(found.files, index)
    work = list(zip(found.files, doc_ids, strict=True))
    bar = tqdm(work, desc="Ingesting", unit="file", disable=not progress, leave=True)
    for source, doc_id in bar:
        bar.set_postfix_str(source.path.name[-40:], refresh=False)
        result = ingest_file(source, doc_id, index)
        report.files.append(result)
        if on_file:
            on_file(result)
    index.refresh_keyword_index()
    return report


def ingest_file(source: SourceFile, doc_id: str, index: PaperIndex) -> FileReport:
    """Read one file into the document `doc_id` (see `assign_document_ids`)."""
    path, location = source.path, str(source.location)
    live: StoredDocument | None = None
    try:
        if not path.is_file():
            raise UnreadableFileError(path, "not found")
        version = document_version(sha256_of(path), index.settings.chunk_max_tokens)
        live = index.document(doc_id)
        if live is not None and live.version == version and live.path == location:
            restated = _access_restated(path, live, index)
            if restated is None:
                return FileReport(str(path), Outcome.UNCHANGED, doc_id, live.pages, 0)
            index.restate_document(restated)  # its chunks and vectors stand
            note = f"access {live.meta.access} → {restated.access}, not embedded again"
            return FileReport(str(path), Outcome.UPDATED, doc_id, live.pages, 0, access_note=note)
        loaded = load_file(path, ocr=index.settings.ocr)
        # the bytes read, should the file have changed since
        version = document_version(loaded.sha256, index.settings.chunk_max_tokens)
        blocks = blocks_from_pages(loaded.pages)
        if not blocks:
            raise UnreadableFileError(path, "no paragraphs of text found")
        sidecar = read_sidecar(path.parent)
        restriction = find_restriction(loaded.pages)
        held = index.settings.held_access if restriction else None
        first_page = loaded.pages[0].text if loaded.pages else ""
        meta = describe(path, blocks, loaded.pdf_title, sidecar, doc_id, held, first_page)
        access_note = (
            f"held as {held}: {restriction.reason()}"
            if restriction
            and held
            and meta.access == held
            and "access" not in sidecar.get(path.name, {})
            else None
        )
        moved_from = live.path if live is not None and live.path != location else None
        if live is not None and live.version == version and live.meta.title == meta.title:
            # The same bytes at a new place: its chunks and vectors stand. Only the place,
            # and what the new name and folder's sidecar say of it (date, access…), change.
            index.move_document(meta, location)
            return FileReport(
                str(path), Outcome.MOVED, doc_id, live.pages, 0,
                repairs=loaded.repairs, moved_from=moved_from, access_note=access_note,
                ocr_pages=loaded.ocr_pages,
            )  # fmt: skip
        # (Moved to where it is called otherwise: the title is in every chunk's vector.)
        count = getattr(index.embeddings, "count_tokens", _approximate_tokens)
        chunks = chunk_blocks(blocks, meta, version, count, index.settings.chunk_max_tokens)
        mark_read_by_ocr(chunks, loaded.ocr_pages)
        extraction = extract(blocks).to_json()
        index.replace_document(meta, version, location, loaded.pages, chunks, extraction)
    except UnreadableFileError as exc:
        return FileReport(str(path), Outcome.SKIPPED, doc_id, reason=exc.reason)
    except Exception as exc:  # one bad file must not stop the batch; the report carries it
        log.exception("ingest failed for %s", path)
        return FileReport(str(path), Outcome.FAILED, doc_id, reason=f"{type(exc).__name__}: {exc}")
    if live is None:
        outcome = Outcome.ADDED
    else:
        outcome = Outcome.MOVED if live.version == version else Outcome.UPDATED
    return FileReport(
        str(path), outcome, doc_id, len(loaded.pages), len(chunks),
        repairs=loaded.repairs, moved_from=moved_from, access_note=access_note,
        ocr_pages=loaded.ocr_pages, inferred=inferred_note(meta, sidecar),
    )  # fmt: skip


def _access_restated(path: Path, live: StoredDocument, index: PaperIndex) -> DocumentMeta | None:
    """The live document's metadata with its access as the sidecar now gives it, or, where
    the sidecar gives none, as the paper's own marks do (read from its stored pages); None
    when unchanged. So an edited sidecar takes effect on the next run, embedding nothing."""
    entry = read_sidecar(path.parent).get(path.name, {})
    if entry.get("access"):
        access = str(entry["access"])
    else:
        texts = index.manifest.page_texts(live.meta.doc_id, first=FRONT_PAGES)
        front = [Page(n, tuple(Line(line) for line in texts[n].split("\n"))) for n in sorted(texts)]
        access = index.settings.held_access if find_restriction(front) else "public"
    return None if access == live.meta.access else replace(live.meta, access=access)


def _approximate_tokens(text: str) -> int:
    # Word-pieces run at about 1.3 per English word; used only when the embedder has no tokenizer.
    return int(len(text.split()) * 1.3) + 2
