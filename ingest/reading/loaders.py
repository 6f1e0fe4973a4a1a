"""Loaders: a file on disk → its pages of lines.

PDFs are read page by page with pypdf; the text is pypdf's own extraction, and a visitor
records where each line sits so the structure step can see paragraph gaps. A page with no
usable text layer (a scan, or a scan whose old OCR is junk) is read by OCR instead (`ocr`)
when that is on: page by page, so a good paper with one scanned page has that page read.
Plain text and markdown become a single page each (they have no pages). Word documents
(`docx_loader`) and web pages (`html_loader`) have no pages either, but do mark their
headings: each top-level section is a page (`unpaged`). Any file that cannot give usable text
raises `UnreadableFileError` with a reason a person can act on; so does a file of a type not
read here, with what to do about it (`unsupported_reason`).
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
import statistics
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from ingest.models import Line, LoadedFile, Page
from ingest.reading.docx_loader import DocxError, read_docx
from ingest.reading.html_loader import read_html
from ingest.reading.ocr import OcrError, OcrLine, describe_pages, pdf_pages, tesseract_installed

log = logging.getLogger(__name__)

PDF_SUFFIXES = {".pdf"}
TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
DOCX_SUFFIXES = {".docx"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = (
    PDF_SUFFIXES | TEXT_SUFFIXES | MARKDOWN_SUFFIXES | DOCX_SUFFIXES | HTML_SUFFIXES
)
_READ_HERE = "PDF, Word .docx, HTML, .txt or .md"
# What to do with a file of a type not read here, by suffix.
_UNSUPPORTED_ADVICE = {
    ".doc": "an old Word format: open it in Word and save it as .docx (or PDF), then ingest that",
    ".rtf": "rich text: save it as .docx or PDF, then ingest that",
    ".odt": "an OpenDocument text: save it as .docx or PDF, then ingest that",
    ".pages": "a Pages document: export it as .docx or PDF, then ingest that",
    ".xls": "a spreadsheet, not a paper format we read: save the paper itself as PDF",
    ".xlsx": "a spreadsheet, not a paper format we read: save the paper itself as PDF",
    ".xlsm": "a spreadsheet, not a paper format we read: save the paper itself as PDF",
    ".ods": "a spreadsheet, not a paper format we read: save the paper itself as PDF",
    ".csv": "a data table, not a paper format we read: save the paper itself as PDF",
    ".ppt": "slides, not a paper format we read: save them as PDF, then ingest that",
    ".pptx": "slides, not a paper format we read: save them as PDF, then ingest that",
    ".odp": "slides, not a paper format we read: save them as PDF, then ingest that",
    ".msg": "an e-mail: save the paper it carries as its own file, then ingest that",
    ".eml": "an e-mail: save the paper it carries as its own file, then ingest that",
    ".zip": "an archive: unpack it into the folder, then ingest again",
}
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp", ".webp"}


def unsupported_reason(suffix: str) -> str:
    """Why a file of this type is not read, and what to do about it."""
    suffix = suffix.lower()
    if suffix in _IMAGE_SUFFIXES:
        advice = "an image: run OCR on it into a searchable PDF (`ocrmypdf`), then ingest that"
    else:
        advice = _UNSUPPORTED_ADVICE.get(suffix, f"not a paper format we read (use {_READ_HERE})")
    return f"unsupported file type '{suffix or '(none)'}': {advice}"


# Fewer words than this (of two letters or more) is not a document worth indexing.
MIN_WORDS = 3
# A text layer where under half the tokens are words or numbers is noise (bad OCR, stray
# marks), and one where this share are glyph names ("/g437/g258") has fonts with no
# character map: indexing either would only put junk in front of readers.
MIN_USABLE_SHARE = 0.5
MAX_GLYPH_SHARE = 0.3


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


def load_file(path: Path, *, ocr: bool = False) -> LoadedFile:
    """Read any supported file; raises `UnreadableFileError` for anything unusable.

    `ocr`: read by OCR the PDF pages with no usable text layer (the `BOARDPAPERS_OCR`
    setting; ingest passes it); without it such a paper is refused saying what to do."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFileError(path, unsupported_reason(suffix))
    if not path.is_file():
        raise UnreadableFileError(path, "not found (or not a file)")
    try:
        if path.stat().st_size == 0:
            raise UnreadableFileError(path, "the file is empty (0 bytes): copy it again")
        sha = sha256_of(path)
        repairs: list[str] = []
        attempt = OcrAttempt(OcrState.OFF)
        if suffix in PDF_SUFFIXES:
            with _pdf_reader_warnings() as repairs:
                pages, title = _read_pdf(path)
            pages, attempt = _read_weak_pages_by_ocr(path, pages, ocr=ocr)
        elif suffix in DOCX_SUFFIXES:
            pages, title = _read_docx(path)
        elif suffix in HTML_SUFFIXES:
            pages, title = read_html(_decode_text(path, path.read_bytes()))
        else:
            pages, title = _read_text(path, markdown=suffix in MARKDOWN_SUFFIXES), None
    except OSError as exc:  # permissions, a file vanishing mid-read: the person can fix these
        raise UnreadableFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    _check_text_quality(path, pages, is_pdf=suffix in PDF_SUFFIXES, ocr=attempt)
    return LoadedFile(
        path=str(path),
        sha256=sha,
        pages=tuple(pages),
        pdf_title=title,
        repairs=tuple(dict.fromkeys(repairs)),
    )


class _Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage().strip())


# pypdf's logger is one per process: one PDF is read at a time, so no warning is credited to
# another file and no read leaves the logger as another read set it.
_PDF_READ = threading.Lock()


@contextmanager
def _pdf_reader_warnings() -> Iterator[list[str]]:
    """pypdf's warnings while it reads one file ("incorrect startxref pointer", "Object 172 0
    not defined"), kept for that file's report: printed as they come, they name no file and
    break into the progress bar. Collected whatever level the logger was set to."""
    logger = logging.getLogger("pypdf")
    collected = _Collected()
    with _PDF_READ:
        level, propagate = logger.level, logger.propagate
        logger.addHandler(collected)
        logger.setLevel(logging.WARNING)
        logger.propagate = False
        try:
            yield collected.messages
        finally:
            logger.removeHandler(collected)
            logger.setLevel(level)
            logger.propagate = propagate


@dataclass(frozen=True)
class _TextCounts:
    """How much of a text is words, numbers or glyph codes: the quality rules' measures."""

    tokens: list[str]
    glyphs: int
    usable: int  # words or numbers
    words: int

    @classmethod
    def of(cls, text: str) -> _TextCounts:
        tokens = text.split()
        words = sum(1 for token in tokens if _is_word(token))
        return cls(
            tokens=tokens,
            glyphs=sum(1 for token in tokens if _GLYPH_NAMES.fullmatch(token)),
            usable=words + sum(1 for token in tokens if _NUMBER.fullmatch(token)),
            words=words,
        )

    @property
    def junk(self) -> bool:
        """Glyph codes or noise: worth nothing to a reader, whatever else is there."""
        return bool(self.tokens) and (
            self.glyphs / len(self.tokens) >= MAX_GLYPH_SHARE
            or self.usable / len(self.tokens) < MIN_USABLE_SHARE
        )

    @property
    def usable_text(self) -> bool:
        return not self.junk and self.words >= MIN_WORDS


class OcrState(Enum):
    OFF = "off"  # the setting is off (or the file is not a PDF)
    MISSING = "missing"  # on, but tesseract is not installed
    NOT_NEEDED = "not needed"  # every page has a usable text layer
    READ = "read"  # the weak pages were read by OCR
    FAILED = "failed"  # OCR could not read a page; `detail` says why


@dataclass(frozen=True)
class OcrAttempt:
    """What OCR did for a file: its refusal, if any, says what to do accordingly."""

    state: OcrState
    detail: str = ""
    pages: tuple[int, ...] = ()  # the pages OCR was asked to read


def _read_weak_pages_by_ocr(
    path: Path, pages: list[Page], *, ocr: bool
) -> tuple[list[Page], OcrAttempt]:
    """The pages, each with no usable text layer read by OCR where that reads better."""
    weak = [page.number for page in pages if not _TextCounts.of(page.text).usable_text]
    if not weak:
        return pages, OcrAttempt(OcrState.NOT_NEEDED)
    if not ocr:
        return pages, OcrAttempt(OcrState.OFF)
    if not tesseract_installed():
        return pages, OcrAttempt(OcrState.MISSING)
    by_number = {page.number: page for page in pages}
    try:
        with pdf_pages(path) as reader:
            for number in weak:
                by_number[number] = _better_reading(by_number[number], reader.read(number))
    except OcrError as exc:
        # The pages not read keep their text layer: a paper it makes usable is read as it
        # was before OCR, and one it does not is refused saying why OCR failed.
        log.warning("%s: OCR failed (%s); its text layer is used as it is", path.name, exc)
        attempt = OcrAttempt(OcrState.FAILED, detail=str(exc), pages=tuple(weak))
    else:
        attempt = OcrAttempt(OcrState.READ, pages=tuple(weak))
    return [by_number[page.number] for page in pages], attempt


def _better_reading(page: Page, read: list[OcrLine]) -> Page:
    """The OCR reading of a page whose text layer is junk (junk helps no reader, so even
    nothing is better), or that reads more words than the layer without being junk itself
    (marks in a map or a photo read as letters); else the page as it was."""
    pieces: list[tuple[str, float | None, float | None]] = [
        (("\n" if index else "") + line.text, line.baseline, line.left)
        for index, line in enumerate(read)
    ]
    reading = Page(page.number, tuple(_lines_from_pieces(pieces)) if read else (), ocr=bool(read))
    layer_counts, reading_counts = _TextCounts.of(page.text), _TextCounts.of(reading.text)
    if layer_counts.junk or (not reading_counts.junk and reading_counts.words > layer_counts.words):
        return reading
    return page


def _pdf_advice(ocr: OcrAttempt, *, has_layer: bool) -> str:
    """What to do about a PDF that gives no usable text, given what OCR did with it."""
    tool = "`ocrmypdf --force-ocr`" if has_layer else "`ocrmypdf`"
    match ocr.state:
        case OcrState.READ:
            return "scan its pages again, sharper (300 dpi or more), if they do hold text"
        case OcrState.MISSING:
            return (
                "install Tesseract so that ingest reads scanned pages by OCR "
                "(`sh scripts/install-ocr.sh`, or `apt-get install tesseract-ocr "
                f"tesseract-ocr-eng`), or run OCR on it ({tool}) and ingest the result"
            )
        case OcrState.FAILED:
            return (
                f"OCR could not read it ({ocr.detail}): run OCR on it ({tool}) and ingest "
                "the result"
            )
        case _:
            return (
                f"run OCR on it ({tool}) and ingest the result, or turn ingest's own OCR on "
                "(BOARDPAPERS_OCR=true)"
            )


def _check_text_quality(
    path: Path, pages: list[Page], *, is_pdf: bool, ocr: OcrAttempt | None = None
) -> None:
    """Refuse text that is absent or junk, saying what the person can do about it (for a
    PDF, by what OCR did with it)."""
    ocr = ocr or OcrAttempt(OcrState.OFF)
    read = ocr.state is OcrState.READ
    even = f", even read by OCR ({describe_pages(ocr.pages)})" if read else ""
    counts = _TextCounts.of("\n".join(page.text for page in pages))
    tokens = counts.tokens
    if not tokens:
        if not is_pdf:
            raise UnreadableFileError(path, "the file has no text")
        found = (
            f"no text{even}: its pages look like pictures or drawings"
            if read
            else "no text layer: it looks scanned or image-only"
        )
        raise UnreadableFileError(path, f"{found}; {_pdf_advice(ocr, has_layer=False)}")
    if counts.glyphs / len(tokens) >= MAX_GLYPH_SHARE:
        raise UnreadableFileError(
            path,
            f"the text{even or ' layer'} is glyph codes, not words (e.g. "
            f"'{_first_glyph_token(tokens)}'): its fonts have no character map; re-export the "
            f"PDF with Unicode fonts embedded, or {_pdf_advice(ocr, has_layer=True)}",
        )
    if counts.usable / len(tokens) < MIN_USABLE_SHARE:
        share = f"only {counts.usable} of {len(tokens)} pieces"
        raise UnreadableFileError(
            path,
            f"the text{' layer' if not read else ''} is unreadable{even}: {share} of text are "
            f"words or numbers (poor OCR or stray marks); {_pdf_advice(ocr, has_layer=True)}"
            if is_pdf
            else f"not readable text: {share} are words or numbers (is it really a text file?)",
        )
    if counts.words < MIN_WORDS:
        found = f"almost no text{even} ({counts.words} word{'s' if counts.words != 1 else ''})"
        if not is_pdf:
            raise UnreadableFileError(path, found)
        advice = _pdf_advice(ocr, has_layer=True)
        raise UnreadableFileError(
            path, f"{found}: {advice if read else 'if it is scanned, ' + advice}"
        )


# pypdf spells glyphs it cannot map to Unicode by name ("/g437"); pdfminer as "(cid:12)".
_GLYPH_NAMES = re.compile(r"(?:/[A-Za-z]{1,4}\d{1,5}|\(cid:\d+\))+[.,;:]?")
_NUMBER = re.compile(r"[(£$€]?\d[\d.,:/%\-–]*[)%]?[.,;:]?")


def _is_word(token: str) -> bool:
    # Two letters of any script: "of", "Board", "东北电气"; not "i," or "•" or ".4".
    return sum(ch.isalpha() for ch in token) >= 2 and not _GLYPH_NAMES.fullmatch(token)


def _first_glyph_token(tokens: list[str]) -> str:
    return next((t for t in tokens if _GLYPH_NAMES.fullmatch(t)), tokens[0])[:30]


_PASSWORD_REASON = (
    "encrypted with a password: ask its publisher for an unprotected copy, or open it with the "
    "password and save a copy without one, then ingest that"
)
_CIPHER_REASON = (
    "encrypted with AES, which needs the `cryptography` package: "
    "`pip install cryptography`, then ingest again"
)


def _corrupt_reason(exc: BaseException) -> str:
    detail = str(exc).strip()[:160] or type(exc).__name__
    return (
        f"not a readable PDF: the file is damaged or is not a PDF ({detail}); "
        "download or export it again"
    )


def _read_pdf(path: Path) -> tuple[list[Page], str | None]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        # strict=False: pypdf repairs what it can (junk before the header, a wrong startxref).
        reader = PdfReader(str(path), strict=False)
        # An owner-only password (empty user password) opens with ""; a user password won't.
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFileError(path, _PASSWORD_REASON)
        page_count = len(reader.pages)
        pages = [_read_pdf_page(reader.pages[index], index + 1) for index in range(page_count)]
        title = _pdf_title(reader)
    except UnreadableFileError:
        raise
    except FileNotDecryptedError as exc:
        raise UnreadableFileError(path, _PASSWORD_REASON) from exc
    except DependencyError as exc:
        raise UnreadableFileError(path, _CIPHER_REASON) from exc
    except Exception as exc:  # pypdf raises many kinds on corrupt input; none may stop a batch
        log.debug("PDF not readable: %s", path, exc_info=True)
        raise UnreadableFileError(path, _corrupt_reason(exc)) from exc
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


def _read_docx(path: Path) -> tuple[list[Page], str | None]:
    try:
        return read_docx(path)
    except DocxError as exc:
        raise UnreadableFileError(path, str(exc)) from exc


def _read_text(path: Path, *, markdown: bool) -> list[Page]:
    text = _decode_text(path, path.read_bytes())
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


def _decode_text(path: Path, data: bytes) -> str:
    """UTF-8 (with or without a BOM), UTF-16 with a BOM, else Latin-1; binary is refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if b"\x00" in data:
        raise UnreadableFileError(
            path, "not a text file (it holds binary data): give its real extension, or a PDF"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_MARKDOWN_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"<[^>]+>"), " "),  # inline HTML tags
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images → alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links → their text
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)"), r"\1"),  # italics
    (re.compile(r"^#{1,6}\s+", re.MULTILINE), ""),  # heading marks (the line stays a heading)
    (re.compile(r"^\s*(```|~~~).*$", re.MULTILINE), ""),  # code fences
    (re.compile(r"`([^`]+)`"), r"\1"),  # inline code → its text
    (re.compile(r"^\s*>\s?", re.MULTILINE), ""),  # block quote marks
    (re.compile(r"^\s*\|?(\s*:?-{3,}:?\s*\|)+\s*$", re.MULTILINE), ""),  # table rules
]


def _strip_markdown(text: str) -> str:
    for pattern, replacement in _MARKDOWN_RULES:
        text = pattern.sub(replacement, text)
    return text
