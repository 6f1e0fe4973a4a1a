"""Loaders: real PDFs, text and markdown files, and every kind of hard PDF we know of.

Each hard input must end in one clear outcome: it loads with usable text, or it raises
`UnreadableFileError` whose reason tells a person what to do (password, OCR, re-download).
The files in ../shared/pdfs-hard are used where present; the same kinds of bad input are also
generated here with pypdf and fpdf2 so the checks run without ../shared.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import HARD_PDFS, KEY_POINTS, PROTOCOL
from fpdf import FPDF
from PIL import Image, ImageDraw
from pypdf import PdfWriter

from ingest.reading.loaders import UnreadableFileError, load_file, sha256_of
from ingest.reading.structure import blocks_from_pages


@dataclass(frozen=True)
class Loads:
    """The file loads with `pages` pages, and page `page` holds `phrase`."""

    pages: int
    page: int
    phrase: str


@dataclass(frozen=True)
class Refused:
    """The file is refused, and the reason says each of `says` (case-insensitive)."""

    says: tuple[str, ...]


PASSWORD = Refused(("encrypted", "password"))
NEEDS_OCR = Refused(("no text layer", "OCR"))
JUNK_TEXT = Refused(("unreadable", "OCR"))
GLYPH_CODES = Refused(("character map", "OCR"))
CORRUPT = Refused(("not a readable PDF", "damaged"))
EMPTY = Refused(("empty",))


def assert_outcome(path: Path, expected: Loads | Refused) -> None:
    if isinstance(expected, Loads):
        loaded = load_file(path)
        assert len(loaded.pages) == expected.pages
        assert expected.phrase in loaded.pages[expected.page - 1].text
        assert blocks_from_pages(loaded.pages), "loaded, but no blocks of text came out"
        return
    with pytest.raises(UnreadableFileError) as caught:
        load_file(path)
    reason = caught.value.reason
    for words in expected.says:
        assert words.lower() in reason.lower(), reason


# --- real corpus papers --------------------------------------------------------------------


def test_key_points_pdf_has_two_pages_of_text() -> None:
    loaded = load_file(KEY_POINTS)
    assert len(loaded.pages) == 2
    assert [page.number for page in loaded.pages] == [1, 2]
    assert loaded.pages[0].lines[0].text.startswith("Key Points discussed Safer Oxfordshire")
    assert "Police and Crime Commissioner (PCC) Community Safety Fund" in loaded.pages[0].text
    assert "40% increase in the number of safeguarding" in loaded.pages[1].text
    assert loaded.sha256 == sha256_of(KEY_POINTS)


def test_pdf_lines_carry_paragraph_gaps() -> None:
    page = load_file(PROTOCOL).pages[0]
    gaps = {line.text: line.gap_before for line in page.lines}
    # A heading stands off from the text around it; wrapped lines sit one pitch apart.
    assert (gap := gaps["Background"]) is not None
    assert gap > 1.35
    assert gaps["Board accepted the proposed changes to the partnership at the"] == 1.0


def test_protocol_pdf_text_of_its_last_page() -> None:
    loaded = load_file(PROTOCOL)
    assert len(loaded.pages) == 3
    assert (
        "11. This protocol has been accepted by all the main partnerships" in loaded.pages[2].text
    )


# --- text and markdown ---------------------------------------------------------------------


def test_text_file_is_one_page_with_paragraph_gaps(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text(
        "Minutes of the Community Safety Board\n\n"
        "The board agreed the new domestic abuse strategy\n"
        "and asked for a report in March.\n\n\n"
        "Any other business: none.\n",
        encoding="utf-8",
    )
    loaded = load_file(path)
    assert len(loaded.pages) == 1
    lines = loaded.pages[0].lines
    assert [line.text for line in lines] == [
        "Minutes of the Community Safety Board",
        "The board agreed the new domestic abuse strategy",
        "and asked for a report in March.",
        "Any other business: none.",
    ]
    # A blank line is a paragraph gap; a wrapped line is not.
    assert (gap := lines[1].gap_before) is not None
    assert gap > 1.35
    assert lines[2].gap_before == 1.0
    assert (gap := lines[3].gap_before) is not None
    assert gap > 1.35


def test_markdown_syntax_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "briefing.md"
    path.write_text(
        "# Safer Streets Briefing\n\n"
        "## Funding\n\n"
        "The **Police and Crime Commissioner** has agreed __new__ funding for *three* years.\n"
        "See the [full report](https://example.org/report.pdf) and ![chart](chart.png).\n\n"
        "> Quoted from the `grant letter` of 5 July.\n",
        encoding="utf-8",
    )
    text = load_file(path).pages[0].text
    assert text.splitlines()[:2] == ["Safer Streets Briefing", "Funding"]
    assert "The Police and Crime Commissioner has agreed new funding for three years." in text
    assert "See the full report and chart." in text
    assert "Quoted from the grant letter of 5 July." in text
    for syntax in ("#", "**", "__", "*", "[", "](", "https://", "`", ">"):
        assert syntax not in text, syntax


def test_markdown_headings_become_heading_blocks(tmp_path: Path) -> None:
    path = tmp_path / "agenda.md"
    path.write_text(
        "# Agenda\n\nThe board will meet in the council chamber at 2pm.\n", encoding="utf-8"
    )
    blocks = blocks_from_pages(load_file(path).pages)
    assert [(b.kind.value, b.text) for b in blocks] == [
        ("heading", "Agenda"),
        ("paragraph", "The board will meet in the council chamber at 2pm."),
    ]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("latin-1", b"")],
)
def test_text_file_encodings(tmp_path: Path, encoding: str, bom: bytes) -> None:
    path = tmp_path / "café-note.txt"
    sentence = "The café on the high street reopened after the council’s review."
    if encoding == "latin-1":
        sentence = sentence.replace("’", "'")
    path.write_bytes(bom + sentence.encode(encoding))
    assert load_file(path).pages[0].text == sentence


# --- refusals that need no PDF -------------------------------------------------------------


def test_binary_data_in_a_text_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_bytes(random.Random(3).randbytes(4000))
    assert_outcome(path, Refused(("not a text file",)))


def test_text_file_of_stray_marks_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "marks.txt"
    path.write_text(". , ; : - . , ! ? ... i a . , 1 . x\n" * 5, encoding="utf-8")
    assert_outcome(path, Refused(("not readable text",)))


def test_unsupported_and_missing_files_are_refused(tmp_path: Path) -> None:
    sheet = tmp_path / "minutes.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    assert_outcome(sheet, Refused(("unsupported file type '.xlsx'",)))
    assert_outcome(tmp_path / "gone.pdf", Refused(("not found",)))


# --- generated hard PDFs: the same kinds as ../shared/pdfs-hard ----------------------------

BOARD_TEXT = (
    "The Community Safety Board met on 5 July. Members agreed the domestic abuse strategy "
    "and asked officers to report on funding for youth services in the new year. "
)


def _text_pdf(path: Path, pages: list[str]) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def _encrypted(path: Path, user_password: str, algorithm: str) -> Path:
    writer = PdfWriter(clone_from=KEY_POINTS)
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    writer.write(path)
    return path


def _image_only_pdf(path: Path) -> Path:
    # A picture of text and no text layer: what a scanner without OCR produces.
    image = Image.new("RGB", (900, 300), "white")
    ImageDraw.Draw(image).text((30, 30), "Minutes of the board, scanned", fill="black")
    image_path = path.with_suffix(".png")
    image.save(image_path)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(str(image_path), x=10, y=10, w=190)
    pdf.output(str(path))
    return path


def _damaged_page_pdf(path: Path) -> Path:
    """Three pages whose middle page's compressed content stream is overwritten."""
    raw = _text_pdf(path, [f"Page {n}. {BOARD_TEXT}" for n in (1, 2, 3)]).read_bytes()
    streams = list(re.finditer(rb"(?<!end)stream\n(.*?)endstream", raw, re.DOTALL))
    assert len(streams) == 3, "expected one content stream per page"
    start, end = streams[1].start(1) + 4, streams[1].end(1) - 4
    path.write_bytes(raw[:start] + b"A" * (end - start) + raw[end:])
    return path


def _generated(kind: str, folder: Path) -> Path:
    path = folder / f"{kind}.pdf"
    key_points = KEY_POINTS.read_bytes()
    match kind:
        case "user-password-aes256":
            return _encrypted(path, "letmein", "AES-256")
        case "user-password-rc4":
            return _encrypted(path, "letmein", "RC4-128")
        case "owner-only-aes128":
            return _encrypted(path, "", "AES-128")
        case "zero-bytes":
            path.write_bytes(b"")
        case "truncated":
            path.write_bytes(key_points[: len(key_points) // 2])
        case "header-only":
            path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog")
        case "junk-bytes":
            path.write_bytes(random.Random(7).randbytes(20_000))
        case "html-named-pdf":
            path.write_bytes(b"<!doctype html><html><body>Page not found</body></html>")
        case "junk-before-header":
            path.write_bytes(b"GPL Ghostscript 9.05\n" + key_points)
        case "image-only":
            return _image_only_pdf(path)
        case "glyph-codes":
            return _text_pdf(path, ["/g437/g258/g381 /g282/g286 /g90/g336 /g258/g437/g381 " * 8])
        case "ocr-noise":
            return _text_pdf(path, [":., dP . . i, . . ? . i ' 14 e. : .. Pr . k 1 s . % , 2 " * 6])
        case "one-word":
            return _text_pdf(path, ["CONFIDENTIAL"])
        case "damaged-page":
            return _damaged_page_pdf(path)
        case _:
            raise AssertionError(kind)
    return path


GENERATED_OUTCOMES: dict[str, Loads | Refused] = {
    "user-password-aes256": PASSWORD,
    "user-password-rc4": PASSWORD,
    "owner-only-aes128": Loads(2, 1, "Key Points discussed Safer Oxfordshire Partnership"),
    "zero-bytes": EMPTY,
    "truncated": CORRUPT,
    "header-only": CORRUPT,
    "junk-bytes": CORRUPT,
    "html-named-pdf": CORRUPT,
    "junk-before-header": Loads(2, 2, "40% increase in the number of safeguarding"),
    "image-only": NEEDS_OCR,
    "glyph-codes": GLYPH_CODES,
    "ocr-noise": JUNK_TEXT,
    "one-word": Refused(("almost no text", "OCR")),
    "damaged-page": Loads(3, 3, "Page 3. The Community Safety Board met on 5 July."),
}


@pytest.mark.parametrize(
    ("kind", "expected"), GENERATED_OUTCOMES.items(), ids=list(GENERATED_OUTCOMES)
)
def test_generated_hard_pdf(tmp_path: Path, kind: str, expected: Loads | Refused) -> None:
    assert_outcome(_generated(kind, tmp_path), expected)


def test_what_the_pdf_reader_mends_is_kept_with_the_file_not_logged_loose(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    pypdf_log = logging.getLogger("pypdf")
    pypdf_log.setLevel(logging.ERROR)  # as a program quietening pypdf would
    try:
        loaded = load_file(_generated("junk-before-header", tmp_path))
        assert any(repair.startswith("invalid pdf header") for repair in loaded.repairs)
        assert not [record for record in caplog.records if record.name.startswith("pypdf")]
        assert load_file(KEY_POINTS).repairs == ()
        with pytest.raises(UnreadableFileError):
            load_file(_generated("truncated", tmp_path))
        # the logger is left as it was found, after a read and after a refusal
        assert (pypdf_log.level, pypdf_log.propagate, pypdf_log.handlers) == (
            logging.ERROR,
            True,
            [],
        )
    finally:
        pypdf_log.setLevel(logging.NOTSET)


def test_damaged_page_costs_only_that_page(tmp_path: Path) -> None:
    loaded = load_file(_generated("damaged-page", tmp_path))
    assert [bool(page.text.strip()) for page in loaded.pages] == [True, False, True]


# --- ../shared/pdfs-hard -------------------------------------------------------------------

HARD_OUTCOMES: dict[str, Loads | Refused] = {
    "2023-06-20-PV.pdf": Loads(2, 1, "PROCÈS-VERBAL"),
    # A form: the labels are page text and load; the filled-in values live in form fields.
    "SF424_page2.pdf": Loads(1, 1, "Type of Applicant 1: Select Applicant Type:"),
    # Noisy but real OCR: mostly words, so worth indexing.
    "Seige_of_Vicksburg_Sample_OCR.pdf": Loads(6, 6, "watched the beauty above"),
    "WARN-Report-for-7-1-2015-to-03-25-2016.pdf": Loads(16, 1, "Notice Date"),
    "c02-22.pdf": NEEDS_OCR,
    "empty.pdf": EMPTY,
    "federal-register-2020-17221.pdf": Loads(15, 15, "Federal Register / Vol. 85, No. 152"),
    "invalid.pdf": CORRUPT,
    # Its text layer is OCR of a photo gone wrong (":., dP . . i, ."): indexing it would only
    # put junk in answers, and re-running OCR is the fix, so it is refused saying so.
    "issue-301.pdf": JUNK_TEXT,
    "issue-67-example.pdf": Loads(22, 1, "东北电气发展股份有限公司"),
    # Junk before the header and a wrong startxref: pypdf's lenient reader repairs it.
    "issue-848.pdf": Loads(8, 1, "The movie opens with a news report"),
    "libreoffice-writer-password.pdf": PASSWORD,
    "nics-background-checks-2015-11-rotated.pdf": Loads(1, 1, "Handgun"),
    "password-example.pdf": PASSWORD,
    # Owner-only encryption: the empty user password opens it.
    "pr-138-example.pdf": Loads(2, 2, "Effective as at 9 April 2019"),
    # AES-256 with an empty user password: opens because `cryptography` is installed.
    "r6-empty-password.pdf": Loads(1, 1, "pdf encryption test"),
    "type3_font_nomapping.pdf": GLYPH_CODES,
    "unreadablemetadata.pdf": CORRUPT,
}

needs_shared = pytest.mark.skipif(not HARD_PDFS.is_dir(), reason="../shared/pdfs-hard absent")


@needs_shared
def test_every_shared_hard_pdf_has_a_decided_outcome() -> None:
    assert {p.name for p in HARD_PDFS.glob("*.pdf")} == set(HARD_OUTCOMES)


@needs_shared
@pytest.mark.parametrize(("name", "expected"), HARD_OUTCOMES.items(), ids=list(HARD_OUTCOMES))
def test_shared_hard_pdf(name: str, expected: Loads | Refused) -> None:
    assert_outcome(HARD_PDFS / name, expected)
