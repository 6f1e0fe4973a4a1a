"""Loaders: a file on disk → its pages of lines.

PDFs are read page by page with pypdf; the text is pypdf's own extraction, and a visitor
records where each line sits so the structure step can see paragraph gaps. Plain text and
markdown become a single page each (they have no pages). Any file that cannot give usable
text raises `UnreadableFileError` with a reason a person can act on.
"""

from __future__ import annotations

import hashlib
import logging
import re
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .models import Line, LoadedFile, Page

log = logging.getLogger(__name__)

PDF_SUFFIXES = {".pdf"}
TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
SUPPORTED_SUFFIXES = PDF_SUFFIXES | TEXT_SUFFIXES | MARKDOWN_SUFFIXES

# Below this many letters in the whole file we treat it as having no text layer.
MIN_LETTERS = 40
# Glyph-name garbage ("/g437/g258") and OCR noise leave few real words; below this share of
# word-like tokens the text is not worth indexing.
MIN_WORDLIKE_SHARE = 0.5


class UnreadableFileError(Exception):
    """The file gives no usable text; `reason` says why and what to do."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{Path(path).name}: {reason}")
        self.path = str(path)
        self.reason = reason


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_file(path: Path) -> LoadedFile:
    """Read any supported file; raises `UnreadableFileError` for anything unusable."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFileError(path, f"unsupported file type '{suffix}' (use PDF, .txt or .md)")
    if not path.is_file():
        raise UnreadableFileError(path, "not found")
    if path.stat().st_size == 0:
        raise UnreadableFileError(path, "the file is empty (0 bytes)")
    sha = sha256_of(path)
    if suffix in PDF_SUFFIXES:
        pages, title = _read_pdf(path)
    else:
        pages, title = _read_text(path, markdown=suffix in MARKDOWN_SUFFIXES), None
    _check_text_quality(path, pages)
    return LoadedFile(path=str(path), sha256=sha, pages=tuple(pages), pdf_title=title)


def _check_text_quality(path: Path, pages: list[Page]) -> None:
    text = "\n".join(page.text for page in pages)
    letters = sum(ch.isalpha() for ch in text)
    if letters < MIN_LETTERS:
        raise UnreadableFileError(
            path, "no text layer (a scanned or image-only file?): run OCR on it, then ingest again"
        )
    tokens = text.split()
    wordlike = sum(1 for token in tokens if _WORDLIKE.fullmatch(token))
    if tokens and wordlike / len(tokens) < MIN_WORDLIKE_SHARE:
        raise UnreadableFileError(
            path,
            "the text layer is unreadable (fonts without a character map, or OCR noise): "
            "re-export the PDF with embedded text or run OCR on it",
        )


_WORDLIKE = re.compile(r"[(\"'‘“]*[\w£$€%&.,:;!?'’\-–/]+[)\"'’”.,:;!?]*")


def _read_pdf(path: Path) -> tuple[list[Page], str | None]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError as exc:
                raise UnreadableFileError(
                    path, f"encrypted with a cipher pypdf cannot open here ({exc})"
                ) from exc
            if not opened:
                raise UnreadableFileError(
                    path, "encrypted with a password: save an unprotected copy and ingest that"
                )
        page_count = len(reader.pages)
        pages = [_read_pdf_page(reader.pages[index], index + 1) for index in range(page_count)]
        title = _pdf_title(reader)
    except UnreadableFileError:
        raise
    except FileNotDecryptedError as exc:
        raise UnreadableFileError(
            path, "encrypted with a password: save an unprotected copy and ingest that"
        ) from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise UnreadableFileError(path, f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # pypdf raises many kinds on corrupt input; none may stop a batch
        log.debug("unexpected PDF failure", exc_info=True)
        raise UnreadableFileError(path, f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise UnreadableFileError(path, "the PDF has no pages")
    return pages, title


def _pdf_title(reader: Any) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # broken metadata must not cost us the text
        return None
    return str(title).strip() or None if title else None


def _read_pdf_page(page: Any, number: int) -> Page:
    """Extract a page's text and, per line, the vertical gap above it.

    pypdf's visitor sees the same pieces that make up `extract_text()` (their concatenation is
    the extracted text), so we split on its newlines and give each line the baseline of its
    first visible piece.
    """
    pieces: list[tuple[str, float | None, float | None]] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        x, y = _baseline(cm, tm)
        pieces.append((text, y, x))

    try:
        page.extract_text(visitor_text=visit)
    except Exception:  # a page that cannot be visited still has its plain text tried below
        pieces = []
    if not pieces:
        text = page.extract_text() or ""
        return Page(number=number, lines=tuple(Line(t) for t in text.split("\n")))
    lines = _lines_from_pieces(pieces)
    return Page(number=number, lines=tuple(lines))


def _baseline(cm: list[float], tm: list[float]) -> tuple[float | None, float | None]:
    # Position on the page is the text matrix applied through the current transform matrix.
    try:
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
    except (IndexError, TypeError):
        return None, None
    return x, y


def _lines_from_pieces(pieces: list[tuple[str, float | None, float | None]]) -> list[Line]:
    raw: list[tuple[str, float | None, float | None]] = []
    text_parts: list[str] = []
    y_first: float | None = None
    x_first: float | None = None
    for text, y, x in pieces:
        parts = text.split("\n")
        for index, part in enumerate(parts):
            if index > 0:
                raw.append(("".join(text_parts), y_first, x_first))
                text_parts, y_first, x_first = [], None, None
            if part.strip() and y_first is None:
                y_first, x_first = y, x
            text_parts.append(part)
    raw.append(("".join(text_parts), y_first, x_first))

    ys = [y for _, y, _ in raw if y is not None]
    steps = [abs(a - b) for a, b in zip(ys, ys[1:], strict=False) if 0.5 < abs(a - b) < 60]
    pitch = statistics.median(steps) if steps else None
    lines: list[Line] = []
    previous_y: float | None = None
    for text, y, x in raw:
        gap: float | None = None
        if pitch and y is not None and previous_y is not None:
            gap = round((previous_y - y) / pitch, 2)
        if y is not None:
            previous_y = y
        lines.append(Line(text=text.rstrip(), gap_before=gap, indent=x))
    return lines


def _read_text(path: Path, *, markdown: bool) -> list[Page]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = path.read_text(encoding="latin-1")
    if markdown:
        text = _strip_markdown(text)
    lines: list[Line] = []
    blank_run = 0
    for raw in text.splitlines():
        if not raw.strip():
            blank_run += 1
            continue
        # A blank line in a text file is a paragraph gap: say so in the same units as PDFs.
        lines.append(Line(text=raw.rstrip(), gap_before=1.0 + min(blank_run, 1) * 0.8))
        blank_run = 0
    return [Page(number=1, lines=tuple(lines))]


_MARKDOWN_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"<[^>]+>"), " "),  # inline HTML tags
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images → alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links → their text
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)"), r"\1"),  # italics
    (re.compile(r"^#{1,6}\s+", re.MULTILINE), ""),  # heading marks (the line stays a heading)
    (re.compile(r"^\s*\|?(\s*:?-{3,}:?\s*\|)+\s*$", re.MULTILINE), ""),  # table rules
]


def _strip_markdown(text: str) -> str:
    for pattern, replacement in _MARKDOWN_RULES:
        text = pattern.sub(replacement, text)  # type: ignore[arg-type]
    return text
