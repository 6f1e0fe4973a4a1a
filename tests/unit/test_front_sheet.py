"""A paper's title, body, date and type from its front sheet and file name, where no sidecar
says; the sample papers' own sidecar is the check for what is read from their pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.models import DocumentMeta
from ingest.reading.front_sheet import FrontSheet, date_in_name, read_front_sheet
from ingest.reading.loaders import load_file
from ingest.reading.metadata import UNKNOWN_BODY, describe, inferred_note

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


@pytest.mark.parametrize(
    ("first_page", "expected"),
    [
        (
            "From: Jo Bloggs, Cabinet Member for Highways\nTo: Cabinet – 30 January 2025\n"
            "Subject: Winter gritting routes and salt stocks\nClassification: Unrestricted",
            FrontSheet("Winter gritting routes and salt stocks", "Cabinet", "2025-01-30"),
        ),
        (
            "Report of: Head of Housing\nTo: Full Council\nDate: 2nd February 2015\n"
            "Title of Report: EMPTY HOMES LOAN SCHEME\nSummary and Recommendations",
            FrontSheet("Empty Homes Loan Scheme", "Full Council", "2015-02-02"),
        ),
        (
            "NORTHSHIRE COUNTY COUNCIL\nMINUTES of a meeting of the Planning Committee held in "
            "the Council Chamber\nCounty Hall on Tuesday, 4 March 2025.\nPRESENT: Mr A Smith",
            FrontSheet(None, "Planning Committee", "2025-03-04", "minutes"),
        ),
        (
            "To: Members of the Northshire Health & Wellbeing Board\nNotice of a Meeting of the "
            "Northshire Health & Wellbeing Board\nThursday, 5 December 2024 at 2.00 pm",
            FrontSheet(None, "Northshire Health & Wellbeing Board", "2024-12-05"),
        ),
        (
            "ADULT SOCIAL CARE PANEL– 29 October 2024\nMINUTES of the meeting held in the "
            "Darent Room.",
            FrontSheet(None, "Adult Social Care Panel", "2024-10-29", "minutes"),
        ),
        (
            "From: Director of Finance\nTo: County Council\nSubject:\nTreasury Management "
            "Mid-Year Update 2024-25\nClassification: Unrestricted",
            FrontSheet("Treasury Management Mid-Year Update 2024-25", "County Council"),
        ),
        (
            "Subject: Late changes to the 2025-26 budget and Medium Term\nFinancial Plan (MTFP)\n"
            "Classification: Unrestricted",
            FrontSheet("Late changes to the 2025-26 budget and Medium Term Financial Plan (MTFP)"),
        ),
        ("The strategy sets out our priorities for the next four years.", FrontSheet()),
    ],
)
def test_the_front_sheet_gives_title_body_date_and_type(
    first_page: str, expected: FrontSheet
) -> None:
    assert read_front_sheet(first_page) == expected


@pytest.mark.parametrize(
    ("stem", "iso"),
    [
        ("2024-12-05_board_agenda-pack", "2024-12-05"),
        ("2017-06_sop_community-safety-agreement", "2017-06-01"),
        ("Panel Minutes 29.10.24", "2024-10-29"),
        ("Printed minutes 13th-Feb-2025 09.30 County Council", "2025-02-13"),
        ("Cabinet Report 4 March 2025", "2025-03-04"),
        ("Budget Report February 2025", "2025-02-01"),
        ("Appendix 2 - Glossary of Terms 2024-25", None),
        ("24-00096 - EQIA", None),
    ],
)
def test_a_date_anywhere_in_the_file_name_dates_the_paper(stem: str, iso: str | None) -> None:
    assert date_in_name(stem) == iso


def _described(path: Path) -> DocumentMeta:
    loaded = load_file(path)
    return describe(path, [], loaded.pdf_title, {}, first_page=loaded.pages[0].text)


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.pdf")))
def test_without_a_sidecar_each_sample_paper_is_dated_as_its_sidecar_dates_it(name: str) -> None:
    sidecar = json.loads((CORPUS / "metadata.json").read_text())["files"]
    assert _described(CORPUS / name).date == sidecar[name]["date"]


def test_a_pdf_title_the_paper_does_not_print_gives_way_to_the_file_name(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Agenda Template")  # left by the tool that made the PDF
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "The library service lent more books this year than last.")
    path = tmp_path / "Library Service Annual Review.pdf"
    pdf.output(str(path))

    meta = _described(path)

    assert meta.title == "Library Service Annual Review"
    assert meta.body == UNKNOWN_BODY  # the name has no "date_body_title" shape
    assert inferred_note(meta, {}) == (
        "inferred title 'Library Service Annual Review', no body, no date, type 'paper'"
    )
    assert inferred_note(meta, {path.name: {"title": "T", "body": "B", "doc_type": "report"}}) == (
        "inferred no date"
    )
