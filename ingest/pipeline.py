"""The ingest pipeline: files → pages → blocks → chunks → index, with a per-file report.

Idempotent: an unchanged file, recognised by its SHA-256 and the reading rules' number
(`versions.py`), costs no parsing or embedding. Resumable: each file is published on its own;
a run that dies leaves every finished file live and the next run sweeps the rest. A file that
cannot be read is reported with its reason and skipped; the batch goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from tqdm import tqdm

from ingest.reading.chunking import chunk_blocks
from ingest.reading.extraction import extract
from ingest.reading.loaders import SUPPORTED_SUFFIXES, UnreadableFileError, load_file, sha256_of
from ingest.reading.metadata import SIDECAR_NAME, describe, document_id, read_sidecar
from ingest.reading.structure import blocks_from_pages
from ingest.reading.versions import document_version
from ingest.store.index import PaperIndex

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # the file gives no usable text; the reason says why
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
        return sum(f.chunks for f in self.files if f.outcome in (Outcome.ADDED, Outcome.UPDATED))


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named, and supported files found under folders named, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                and p.name != SIDECAR_NAME and not _is_project_note(p)
            )  # fmt: skip
        else:
            found.append(path)
    return found


def _is_project_note(path: Path) -> bool:
    # A folder of papers may carry its own README/PROVENANCE/LICENSE: notes about the papers,
    # not papers. Hidden files are never papers either.
    return path.name.startswith(".") or path.stem.upper() in {"README", "PROVENANCE", "LICENSE"}


def ingest_paths(
    paths: Iterable[Path],
    index: PaperIndex,
    *,
    progress: bool = False,
    on_file: Callable[[FileReport], None] | None = None,
) -> IngestReport:
    files = expand_paths(paths)
    index.sweep()
    report = IngestReport()
    bar = tqdm(files, desc="Ingesting", unit="file", disable=not progress, leave=True)
    for path in bar:
        bar.set_postfix_str(path.name[-40:], refresh=False)
        result = ingest_file(path, index)
        report.files.append(result)
        if on_file:
            on_file(result)
    index.refresh_keyword_index()
    return report


def ingest_file(path: Path, index: PaperIndex) -> FileReport:
    doc_id = document_id(path)
    try:
        if not path.is_file():
            raise UnreadableFileError(path, "not found")
        version = document_version(sha256_of(path), index.settings.chunk_max_tokens)
        live = index.document(doc_id)
        if live is not None and live.version == version:
            return FileReport(str(path), Outcome.UNCHANGED, doc_id, live.pages, 0)
        loaded = load_file(path)
        # the bytes read, should the file have changed since
        version = document_version(loaded.sha256, index.settings.chunk_max_tokens)
        blocks = blocks_from_pages(loaded.pages)
        if not blocks:
            raise UnreadableFileError(path, "no paragraphs of text found")
        meta = describe(path, blocks, loaded.pdf_title, read_sidecar(path.parent))
        count = getattr(index.embeddings, "count_tokens", _approximate_tokens)
        chunks = chunk_blocks(blocks, meta, version, count, index.settings.chunk_max_tokens)
        extraction = extract(blocks).to_json()
        index.replace_document(meta, version, str(path.resolve()), loaded.pages, chunks, extraction)
    except UnreadableFileError as exc:
        return FileReport(str(path), Outcome.SKIPPED, doc_id, reason=exc.reason)
    except Exception as exc:  # one bad file must not stop the batch; the report carries it
        log.exception("ingest failed for %s", path)
        return FileReport(str(path), Outcome.FAILED, doc_id, reason=f"{type(exc).__name__}: {exc}")
    outcome = Outcome.UPDATED if live is not None else Outcome.ADDED
    return FileReport(
        str(path), outcome, doc_id, len(loaded.pages), len(chunks), repairs=loaded.repairs
    )


def _approximate_tokens(text: str) -> int:
    # Word-pieces run at about 1.3 per English word; used only when the embedder has no tokenizer.
    return int(len(text.split()) * 1.3) + 2
