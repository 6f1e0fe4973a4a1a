"""Reading one paper into what the index stores: pages, metadata, chunks and extraction.

Everything here runs in a worker process as well as in the ingest process: it needs the
embedder's tokenizer (to count word-pieces) but never the model, so it never loads torch.
A reading's result is plain data that pickles; an unreadable file is a result too (its
reason), not an exception, so it crosses a process boundary as it is.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ingest.models import Chunk, DocumentMeta, Page
from ingest.reading.chunking import TokenCounter, chunk_blocks
from ingest.reading.extraction import extract
from ingest.reading.loaders import UnreadableFileError, load_file
from ingest.reading.metadata import describe, inferred_note, read_sidecar
from ingest.reading.ocr import mark_read_by_ocr
from ingest.reading.restriction import find_restriction
from ingest.reading.structure import blocks_from_pages
from ingest.reading.versions import document_version

_COUNTS_KEPT = 4096


class WordPieceCounter:
    """Word-pieces a model reads for a text, [CLS] and [SEP] included, counted by the model's
    own `tokenizer.json` through the `tokenizers` library: the same counts as the
    sentence-transformers tokenizer, thirty times faster, and without transformers or torch
    (which a worker process must not load). Pickles as its folder; loads on first use."""

    def __init__(self, model_path: Path) -> None:
        self.model_path = Path(model_path)
        # Chunking counts each block's heading line again for every block under it.
        self._counted: dict[str, int] = {}

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
        # The file pads and truncates to 128 for the model; a count needs the whole text.
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    def __call__(self, text: str) -> int:
        count = self._counted.get(text)
        if count is None:
            if len(self._counted) >= _COUNTS_KEPT:
                self._counted.clear()
            count = self._counted[text] = len(self._tokenizer.encode(text).ids)
        return count

    def __getstate__(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "_counted": {}}


def approximate_tokens(text: str) -> int:
    # Word-pieces run at about 1.3 per English word; used only when the embedder has no tokenizer.
    return int(len(text.split()) * 1.3) + 2


def token_counter(embeddings: object) -> TokenCounter:
    """How chunking counts word-pieces for `embeddings`: its model folder's tokenizer where
    it has one (`model_path` with a `tokenizer.json`), else its own `count_tokens`, else an
    estimate."""
    model_path = getattr(embeddings, "model_path", None)
    if model_path is not None and (Path(model_path) / "tokenizer.json").is_file():
        return WordPieceCounter(Path(model_path))
    counter: TokenCounter = getattr(embeddings, "count_tokens", approximate_tokens)
    return counter


@dataclass(frozen=True)
class ReadRequest:
    """What reading one file needs: all of it pickles, so a worker process can do it."""

    path: Path
    doc_id: str
    ocr: bool
    chunk_max_tokens: int
    held_access: str


@dataclass
class ReadPaper:
    """A file read into the pieces of a new document version, not yet stored."""

    meta: DocumentMeta
    version: str
    pages: tuple[Page, ...]
    chunks: list[Chunk]
    extraction_json: str
    repairs: tuple[str, ...]
    ocr_pages: tuple[int, ...]
    access_note: str | None  # why the paper is held from the public
    inferred: str | None  # the metadata no sidecar gave, as read from the paper


@dataclass
class ReadResult:
    """A reading: the paper, or why the file gives none (`skipped`: no usable text, as the
    reader says; `failed`: something went wrong on our side, with its traceback)."""

    paper: ReadPaper | None = None
    skipped: str | None = None
    failed: str | None = None
    trace: str | None = None


def read_paper(request: ReadRequest, count_tokens: TokenCounter) -> ReadResult:
    """Read one file; never raises for what the file holds."""
    try:
        return ReadResult(paper=_read(request, count_tokens))
    except UnreadableFileError as exc:
        return ReadResult(skipped=exc.reason)
    except Exception as exc:  # one bad file must not stop the batch; the report carries it
        return ReadResult(failed=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc())


def _read(request: ReadRequest, count_tokens: TokenCounter) -> ReadPaper:
    path = request.path
    loaded = load_file(path, ocr=request.ocr)
    # the bytes read, should the file have changed since it was hashed
    version = document_version(loaded.sha256, request.chunk_max_tokens)
    blocks = blocks_from_pages(loaded.pages)
    if not blocks:
        raise UnreadableFileError(path, "no paragraphs of text found")
    sidecar = read_sidecar(path.parent)
    restriction = find_restriction(loaded.pages)
    held = request.held_access if restriction else None
    first_page = loaded.pages[0].text if loaded.pages else ""
    meta = describe(path, blocks, loaded.pdf_title, sidecar, request.doc_id, held, first_page)
    access_note = (
        f"held as {held}: {restriction.reason()}"
        if restriction
        and held
        and meta.access == held
        and "access" not in sidecar.get(path.name, {})
        else None
    )
    chunks = chunk_blocks(blocks, meta, version, count_tokens, request.chunk_max_tokens)
    mark_read_by_ocr(chunks, loaded.ocr_pages)
    return ReadPaper(
        meta=meta,
        version=version,
        pages=loaded.pages,
        chunks=chunks,
        extraction_json=extract(blocks).to_json(),
        repairs=loaded.repairs,
        ocr_pages=loaded.ocr_pages,
        access_note=access_note,
        inferred=inferred_note(meta, sidecar),
    )
