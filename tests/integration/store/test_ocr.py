"""Scanned PDF pages read by OCR (Debian's tesseract) through the real pipeline: searchable,
cited with `ocr` set and a verbatim quote, and only the pages that need it (issue 22).

The scans are made here: text drawn into a picture with Pillow, the picture put on a PDF
page with fpdf2, as a scanner without OCR makes them. `../shared/pdfs-hard` is used where
present: its scanned papers, and a clear outcome with OCR on for every file in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import HARD_PDFS, MakeServices
from fastapi.testclient import TestClient
from fpdf import FPDF
from fpdf.enums import TextMode
from PIL import Image, ImageDraw, ImageFont

from ingest.pipeline import FileReport, Outcome, ingest_paths
from ingest.reading.loaders import UnreadableFileError, load_file
from ingest.store.embeddings import BundledEmbeddings
from service.api.app import create_app
from service.citations import canonical
from service.cli.main import main
from service.container import Services, build_services
from service.settings import Settings

SCAN_DPI = 200  # what an office scanner set to "document" gives
A4_INCHES = (8.27, 11.69)

LIBRARY_TITLE = "Mobile Library Service Review"
LIBRARY_PAGES = [
    [
        LIBRARY_TITLE,
        "1. The Cabinet agreed that the mobile library will serve eleven villages in the west "
        "of the county from April, stopping at each village hall once a fortnight.",
        "2. Officers reported that visits to the mobile library rose by a fifth last year, "
        "mostly by families with young children and by older residents living alone.",
    ],
    [
        "3. The cost of the new route is met from the libraries reserve until March, when the "
        "Cabinet will review it with the rest of the library budget.",
        "4. The Cabinet asked officers to report on the use of the new route in the autumn.",
    ],
]
PLAYGROUND = (
    "The committee agreed to open the new riverside playground in June, after safety checks "
    "by the council inspectors."
)
TREES = (
    "The parks team reported that four hundred oak saplings were planted along the river path "
    "this winter, with the help of volunteers from the friends groups."
)
# A page of text long enough to be chunks of its own, before the scanned page.
PARKS_REPORT = "Parks Committee report\n\n" + "\n\n".join(
    f"{n}. {TREES} In district {n} the rangers also cleared {n * 3} footpaths, repaired "
    f"{n + 4} benches and surveyed the meadows for the biodiversity plan of the committee."
    for n in range(1, 9)
)
# What bad old OCR of a photo leaves as a hidden text layer (as issue-301.pdf has).
JUNK_LAYER = ":., dP . . i, . . ? . i ' 14 e. : .. Pr . k 1 s . % , 2 " * 6


# --- scans made here ------------------------------------------------------------------------


def scanned_picture(paragraphs: list[str]) -> Image.Image:
    """An A4 page of `paragraphs` as a scanner sees it: black text on white, at SCAN_DPI."""
    width, height = (round(side * SCAN_DPI) for side in A4_INCHES)
    font = ImageFont.load_default(size=round(11 / 72 * SCAN_DPI))  # 11 pt
    margin, pitch = SCAN_DPI, round(0.22 * SCAN_DPI)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    y = margin
    for paragraph in paragraphs:
        line = ""
        for word in paragraph.split():
            if line and font.getlength(f"{line} {word}") > width - 2 * margin:
                draw.text((margin, y), line, font=font, fill=0)
                y, line = y + pitch, word
            else:
                line = f"{line} {word}".strip()
        draw.text((margin, y), line, font=font, fill=0)
        y += 2 * pitch  # a blank line between paragraphs
    return image


def write_paper(path: Path, pages: Sequence[list[str] | str], junk_layer: bool = False) -> Path:
    """A PDF of `pages`: a string is a page of real text; a list of paragraphs is a scanned
    page (a picture only, or with `junk_layer` a picture under hidden junk OCR text)."""
    pdf = FPDF(format="A4")
    for page in pages:
        pdf.add_page()
        if isinstance(page, str):
            pdf.set_font("Helvetica", size=11)
            pdf.multi_cell(0, 6, page, new_x="LMARGIN", new_y="NEXT")
            continue
        pdf.image(scanned_picture(page), x=0, y=0, w=pdf.w, h=pdf.h)
        if junk_layer:
            pdf.set_font("Helvetica", size=9)
            with pdf.local_context(text_mode=TextMode.INVISIBLE):
                pdf.multi_cell(0, 5, JUNK_LAYER, new_x="LMARGIN", new_y="NEXT")
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def by_name(files: list[FileReport]) -> dict[str, FileReport]:
    return {Path(item.path).name: item for item in files}


# --- generated scans --------------------------------------------------------------------------


def test_a_scanned_paper_is_searchable_and_its_citations_say_ocr(
    tmp_path: Path, settings: Settings, make_services: MakeServices
) -> None:
    paper = write_paper(tmp_path / "papers" / "2025-02-04_cabinet_mobile-library.pdf",
                        LIBRARY_PAGES)  # fmt: skip
    services = make_services(settings)

    report = ingest_paths([paper], services.index)

    [item] = report.files
    assert (item.outcome, item.pages, item.ocr_pages) == (Outcome.ADDED, 2, (1, 2))
    assert item.chunks > 0
    hits = services.retriever.search("Which villages will the mobile library serve?", k=3)
    assert hits[0].chunk.doc_id == item.doc_id
    assert "eleven villages in the west of the county" in canonical(hits[0].chunk.text)
    assert all(chunk.ocr for chunk in services.index.manifest.document_chunks(item.doc_id or ""))
    pages = services.index.manifest.page_texts(item.doc_id or "")
    with TestClient(create_app(settings, services=services)) as client:
        reply = client.post("/ask", json={"question": "How often will the mobile library stop "
                                                      "at each village hall?"})  # fmt: skip
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["answered"], body
    cited = [c for c in body["citations"] if c["document"]["id"] == item.doc_id]
    assert cited, body["citations"]
    for citation in cited:
        assert citation["ocr"] is True
        # verbatim from the text stored for the page the citation names
        assert canonical(citation["quote"]) in canonical(pages[citation["page"]])


def test_only_the_scanned_page_of_a_paper_is_read_by_ocr_and_the_report_says_which(
    tmp_path: Path, settings: Settings, make_services: MakeServices,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    paper = write_paper(tmp_path / "papers" / "2025-03-04_parks-committee_report.pdf",
                        [PARKS_REPORT, [PLAYGROUND]])  # fmt: skip
    layer_only = load_file(paper)

    code = main(["--data-dir", str(settings.data_dir), "ingest", "--quiet", str(paper)])

    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith(paper.name))
    assert code == 0, out
    assert line.split()[1:3] == ["added", "2"]
    assert "  page 2 read by OCR;" in line, line
    loaded = load_file(paper, ocr=True)
    # page 1 is its text layer, untouched; page 2 is OCR's reading of the picture
    assert loaded.pages[0] == layer_only.pages[0]
    assert not loaded.pages[0].ocr
    assert not layer_only.pages[1].text.strip()
    assert loaded.pages[1].ocr
    assert canonical(PLAYGROUND) in canonical(loaded.pages[1].text)
    services = make_services(settings)
    [document] = services.index.documents()
    chunks = services.index.manifest.document_chunks(document.meta.doc_id)
    # a chunk is marked when any of its text is OCR's: those on page 1 alone are not
    assert {chunk.ocr for chunk in chunks if chunk.page_end == 1} == {False}
    assert {chunk.ocr for chunk in chunks if chunk.page_end == 2} == {True}


def test_a_junk_text_layer_over_a_scan_is_replaced_by_the_ocr_reading(tmp_path: Path) -> None:
    paper = write_paper(tmp_path / "old-ocr.pdf", [[PLAYGROUND]], junk_layer=True)
    with pytest.raises(UnreadableFileError, match="unreadable"):
        load_file(paper)  # the layer alone: junk

    [page] = load_file(paper, ocr=True).pages

    assert page.ocr
    assert canonical(PLAYGROUND) in canonical(page.text)
    assert "dP" not in page.text.split()


def test_with_ocr_off_a_scanned_paper_is_refused_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_services: MakeServices
) -> None:
    paper = write_paper(tmp_path / "papers" / "scanned.pdf", [[PLAYGROUND]])
    monkeypatch.setenv("BOARDPAPERS_OCR", "false")
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.ocr is False

    [item] = ingest_paths([paper], make_services(settings).index).files

    assert item.outcome is Outcome.SKIPPED
    reason = item.reason or ""
    for says in ("no text layer", "`ocrmypdf`", "BOARDPAPERS_OCR=true"):
        assert says in reason, reason


def test_without_tesseract_a_scanned_paper_is_refused_saying_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paper = write_paper(tmp_path / "scanned.pdf", [[PLAYGROUND]])
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine where tesseract is not installed

    with pytest.raises(UnreadableFileError) as refused:
        load_file(paper, ocr=True)

    for says in ("no text layer", "install Tesseract", "scripts/install-ocr.sh", "ocrmypdf"):
        assert says in refused.value.reason, refused.value.reason


# --- ../shared/pdfs-hard ------------------------------------------------------------------------

needs_shared = pytest.mark.skipif(not HARD_PDFS.is_dir(), reason="../shared/pdfs-hard absent")


@pytest.fixture(scope="module")
def hard_pdfs_ingested(
    tmp_path_factory: pytest.TempPathFactory, embeddings: BundledEmbeddings
) -> tuple[Services, dict[str, FileReport]]:
    """Every file in ../shared/pdfs-hard ingested once with OCR on, for the tests below."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("hard-pdfs-data"), ocr=True)
    services = build_services(settings, embeddings=embeddings)
    report = ingest_paths([HARD_PDFS], services.index)
    return services, by_name(report.files)


@needs_shared
def test_every_hard_pdf_has_a_clear_outcome_with_ocr_on(
    hard_pdfs_ingested: tuple[Services, dict[str, FileReport]],
) -> None:
    _, files = hard_pdfs_ingested
    assert set(files) == {path.name for path in HARD_PDFS.iterdir() if path.suffix == ".pdf"}
    for name, item in files.items():
        try:  # what the file gives without OCR
            without_ocr: str | None = None
            load_file(HARD_PDFS / name)
        except UnreadableFileError as exc:
            without_ocr = exc.reason
        if without_ocr is None:
            # a good text layer: read as before, OCR never asked
            assert (item.outcome, item.ocr_pages) == (Outcome.ADDED, ()), (name, item)
            assert item.chunks > 0, name
        elif item.outcome is Outcome.SKIPPED:
            assert item.reason, name
        else:
            assert item.outcome is Outcome.ADDED, (name, item)
            assert item.ocr_pages, (name, item)
    # the scanned paper with no text layer
    assert files["c02-22.pdf"].outcome is Outcome.ADDED
    assert files["c02-22.pdf"].ocr_pages == (1,)
    # a drawing on squared paper under junk OCR: OCR finds no text on it either, and says so
    assert files["issue-301.pdf"].outcome is Outcome.SKIPPED
    assert "no text, even read by OCR (page 1)" in (files["issue-301.pdf"].reason or "")
    # glyph codes re-read by OCR: the page only shows "ua"
    assert "almost no text, even read by OCR" in (files["type3_font_nomapping.pdf"].reason or "")
    # what no OCR can mend is refused as before
    assert "password" in (files["password-example.pdf"].reason or "")
    assert "not a readable PDF" in (files["invalid.pdf"].reason or "")


@needs_shared
def test_a_shared_scanned_paper_is_searchable_and_cited_as_read_by_ocr(
    hard_pdfs_ingested: tuple[Services, dict[str, FileReport]],
) -> None:
    services, files = hard_pdfs_ingested
    doc_id = files["c02-22.pdf"].doc_id or ""
    pages = services.index.manifest.page_texts(doc_id)

    hits = services.retriever.search("Who was setting in the kitchen door?", k=3)
    result = services.ask("Who was sitting in the kitchen door when they went tip-toeing?")

    assert hits[0].chunk.doc_id == doc_id
    assert hits[0].chunk.ocr
    assert result.answered
    cited = [c for c in result.citations if c.chunk.doc_id == doc_id]
    assert cited, [c.chunk.doc_id for c in result.citations]
    for citation in cited:
        assert citation.chunk.ocr
        assert canonical(citation.quote) in canonical(pages[citation.page])
