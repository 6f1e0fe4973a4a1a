"""OCR: a PDF page's picture read into lines of text by Tesseract.

For pages with no usable text layer (a scan, or a scan whose old OCR is junk): PDFium
(`pypdfium2`) draws the page as the reader sees it, hidden text left out, and Debian's
`tesseract` (installed by `scripts/install-ocr.sh`) reads the picture. Its hOCR output gives
each line with its baseline and left edge, in points as a PDF places text, so the structure
step finds paragraphs in a scan as it does in a born-digital page. `loaders` decides which
pages need this and whether the reading is better than the text layer.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from ingest.models import Chunk

log = logging.getLogger(__name__)

# The resolution Tesseract's models expect; more costs time and reads no better. Measured
# on 2 shared cores (load ~5): an A4 page of text 2-6 s (200 dpi: ~20% less, the same
# words), c02-22.pdf 1.4-2.4 s, the squared-paper drawing of issue-301.pdf ~10 s.
OCR_DPI = 300
# A page larger than A3 (a plan, a poster) is drawn smaller rather than as a giant picture.
MAX_SIDE_PIXELS = 7000
LANGUAGE = "eng"  # tesseract-ocr-eng: the papers are in English
PAGE_TIMEOUT_SECONDS = 180
# Words Tesseract is less sure of than this are marks read as letters (a photo, a stamp,
# squared paper): real words in a readable scan score 60-96, such marks mostly under 30.
MIN_WORD_CONFIDENCE = 30
_LINE_CLASSES = {"ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"}
_TITLE_NUMBERS = re.compile(r"(\w+)((?:\s+-?[\d.]+)+)")

# PDFium is not thread-safe: one page is drawn at a time in this process.
_PDFIUM = threading.Lock()


class OcrError(Exception):
    """A page could not be read by OCR; the message says why."""


@dataclass(frozen=True)
class OcrLine:
    """A line read from a page's picture: `baseline` in points up from the page's bottom edge
    and `left` in points from its left edge, as a PDF's text matrix places text."""

    text: str
    baseline: float
    left: float


def tesseract_installed() -> bool:
    return shutil.which("tesseract") is not None


@contextmanager
def pdf_pages(path: Path) -> Iterator[PageReader]:
    """The PDF opened for OCR, page by page; `OcrError` if PDFium cannot open it."""
    try:
        import pypdfium2
    except ImportError as exc:  # a dependency of the project: only a broken install lacks it
        raise OcrError("the page renderer pypdfium2 is missing: `pip install pypdfium2`") from exc
    try:
        with _PDFIUM:
            # An owner-only password opens with none, as in pypdf.
            document = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        raise OcrError(f"the page renderer cannot open it: {exc}") from exc
    try:
        yield PageReader(document)
    finally:
        with _PDFIUM:
            document.close()


class PageReader:
    """Reads pages of one open PDF by OCR."""

    def __init__(self, document: Any) -> None:
        self._document = document

    def read(self, number: int) -> list[OcrLine]:
        """The lines Tesseract reads on page `number` (1-based), in reading order."""
        started = time.perf_counter()
        image, points_per_pixel = self._draw(number)
        lines = _recognise(image, points_per_pixel)
        log.debug("OCR of page %d: %d lines in %.1f s", number, len(lines),
                  time.perf_counter() - started)  # fmt: skip
        return lines

    def _draw(self, number: int) -> tuple[bytes, float]:
        """The page as a greyscale PGM at `OCR_DPI`, and the size of one pixel in points."""
        import pypdfium2

        with _PDFIUM:
            try:
                page = self._document[number - 1]
                try:
                    width, height = page.get_size()
                    scale = min(OCR_DPI / 72, MAX_SIDE_PIXELS / max(width, height, 1.0))
                    bitmap = page.render(scale=scale, grayscale=True)
                    picture = bitmap.to_pil().convert("L")  # a copy: the bitmap is freed
                    bitmap.close()
                finally:
                    page.close()
            except pypdfium2.PdfiumError as exc:
                raise OcrError(f"page {number} cannot be drawn: {exc}") from exc
        encoded = BytesIO()
        # Uncompressed: Tesseract reads it at once, with no time spent packing it.
        picture.save(encoded, format="PPM")
        return encoded.getvalue(), 1 / scale


def _recognise(image: bytes, points_per_pixel: float) -> list[OcrLine]:
    dpi = round(72 / points_per_pixel)
    command = ["tesseract", "stdin", "stdout", "-l", LANGUAGE, "--dpi", str(dpi), "hocr"]
    # One thread: its OpenMP threads save a little time on a page and cost much more when
    # ingest shares the cores with the embedding model or with other work.
    env = {**os.environ, "OMP_THREAD_LIMIT": os.environ.get("OMP_THREAD_LIMIT", "1")}
    try:
        done = subprocess.run(
            command, input=image, capture_output=True, timeout=PAGE_TIMEOUT_SECONDS, env=env,
            check=False,
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise OcrError("tesseract is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise OcrError(f"tesseract took over {PAGE_TIMEOUT_SECONDS} s on a page") from exc
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise OcrError(f"tesseract failed: {detail[-1] if detail else done.returncode}")
    return _lines_of_hocr(done.stdout, points_per_pixel)


def _lines_of_hocr(hocr: bytes, points_per_pixel: float) -> list[OcrLine]:
    try:
        root = ElementTree.fromstring(hocr)
    except ElementTree.ParseError as exc:
        raise OcrError(f"tesseract's output cannot be read: {exc}") from exc
    page_height = 0.0
    lines: list[OcrLine] = []
    for element in root.iter():
        classes = element.get("class", "")
        if classes == "ocr_page":
            page_height = _title_numbers(element)["bbox"][3]
        if classes not in _LINE_CLASSES:
            continue
        words = [
            "".join(word.itertext()).strip()
            for word in element
            if word.get("class") == "ocrx_word"
            and _title_numbers(word).get("x_wconf", [100])[0] >= MIN_WORD_CONFIDENCE
        ]
        text = " ".join(word for word in words if word)
        if not text:
            continue
        title = _title_numbers(element)
        left, _, _, bottom = title["bbox"]
        # hOCR's baseline: slope, and offset from the box's bottom at its left edge.
        offset = title.get("baseline", [0.0, 0.0])[1]
        lines.append(
            OcrLine(
                text=text,
                baseline=round((page_height - (bottom + offset)) * points_per_pixel, 2),
                left=round(left * points_per_pixel, 2),
            )
        )
    return lines


def _title_numbers(element: ElementTree.Element) -> dict[str, list[float]]:
    # 'bbox 580 28 1413 292; baseline -0.016 -73; x_wconf 91' → {"bbox": [580, 28, ...], …}
    return {
        match[1]: [float(number) for number in match[2].split()]
        for match in _TITLE_NUMBERS.finditer(element.get("title", ""))
    }


def mark_read_by_ocr(chunks: Sequence[Chunk], ocr_pages: Sequence[int]) -> None:
    """Say on each chunk whose text comes, in whole or in part, from a page read by OCR."""
    read = set(ocr_pages)
    for chunk in chunks:
        chunk.ocr = any(page in read for page in range(chunk.page, chunk.page_end + 1))


def describe_pages(numbers: Sequence[int]) -> str:
    """'page 4', 'pages 1-3 and 7': page numbers as a person reads them."""
    runs: list[list[int]] = []
    for number in sorted(set(numbers)):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    parts = [f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs]
    if not parts:
        return "no pages"
    if len(parts) == 1 and len(runs[0]) == 1:
        return f"page {parts[0]}"
    listed = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]
    return f"pages {listed}"
