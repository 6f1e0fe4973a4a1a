"""Structured extraction: the agenda pack's recommendations and resolutions, found completely
and verbatim on their pages, against a list read off the pack by hand."""

from __future__ import annotations

import re

from ingest.models import Block, BlockKind
from ingest.reading.extraction import Extraction, extract
from service.citations import canonical, on_pages
from service.container import Services

PACK = "2024-12-05-oxfordshire-health-wellbeing-board-agenda-pack"
BOARD = "The Health and Wellbeing Board is RECOMMENDED to"
BOARD_AMP = "The Health & Wellbeing Board is RECOMMENDED to"
SOP_NOTE = (
    f"{BOARD_AMP} note the activities and outcomes of the Safer Oxfordshire & Oxfordshire "
    "Domestic Abuse Strategic Board, reflected in Annex 1 & 2."
)
DA_STRATEGY = (
    f"{BOARD} note the progress with reviewing the Oxfordshire Domestic Abuse Safe "
    "Accommodation Strategy."
)
PRIORITY_10 = [
    "Note the progress on the delivery of priority 10: Thriving Communities within the Health "
    "and Wellbeing Strategy",
    "Comment on the draft Oxfordshire Way Prevention Strategy and endorse the plan to progress "
    "to wider consultation.",
]

# Read off the pack (the PDF's text, and its source in ../shared/corpus/source): every
# recommendation, on the PDF page where it is printed, with its lettered items.
EXPECTED_RECOMMENDATIONS: list[tuple[int, str, list[str]]] = [
    (3, f"{BOARD} note the report", []),
    (3, f"{BOARD}:", PRIORITY_10),
    (4, f"{BOARD_AMP} note the content of the annual report which appears at the annex to "
        "this report", []),
    (4, f"{BOARD} note the annual report of the Oxfordshire Safeguarding Children Board senior "
        "safeguarding partners and to consider the key messages.", []),
    (4, SOP_NOTE, []),
    (5, DA_STRATEGY, []),
    (6, "HWB members are asked to note the activity of the Combatting Drugs Partnership.", []),
    (6, SOP_NOTE, []),
    (20, f"{BOARD} note the report", []),
    (25, f"{BOARD}:", PRIORITY_10),
    (56, f"{BOARD_AMP} note the content of the annual report which appears at the annex to "
         "this report", []),
    (95, "Health and Wellbeing Board is RECOMMENDED to note the annual report of the "
         "Oxfordshire Safeguarding Children Board senior safeguarding partners and to consider "
         "the key messages.", []),
    (110, "It is recommended that the Oxfordshire area encourage the use of this tool in "
          "2024-2025.", []),
    (114, SOP_NOTE, []),
    (115, "Health and Wellbeing board are recommended to note the activity of the Oxfordshire "
          "Domestic Abuse Strategic Board as outlined in the 23-24 annual report included in "
          "Annex 2.", []),
    (131, DA_STRATEGY, []),
    (159, f"{BOARD} note the activities and outcomes of the Oxfordshire Combatting Drugs "
          "Partnership, reflected in the Annual Progress Report in Annex 1.", []),
    (160, "7. HWB members are asked to note the activity of the Combating Drugs Partnership.", []),
    (183, "The Health and Wellbeing Board are asked to note the content of the most recent "
          "Health Improvement Partnership Board meeting on the 7th November 2024 and the "
          "Board's contribution to the implementation of Oxfordshire's Joint Health and "
          "Wellbeing Strategy.", []),
]  # fmt: skip

# The note of decisions of the last meeting (pages 9-19): what was RESOLVED, item by item.
EXPECTED_RESOLUTIONS: list[tuple[int, list[str]]] = [
    (10, ["That the Board APPROVED the notes of the last meeting held on 14 March 2024"]),
    (12, ["Endorse the proposed partnership with the Institute of Health Equity",
          "Agree to act as the existing system partnership board"]),
    (13, [f"{BOARD} note the report.", f"{BOARD} consider the frequency of further updates."]),
    (15, ["Approve the content of the Joint Strategic Needs Assessment for 2024",
          "Contribute information and intelligence to the JSNA Steering Group",
          "Note requirements and plans for publishing the update of the Pharmaceutical",
          "Agree to the proposed approach and plan to align PNA workplan"]),
    (16, ["Note the Oxfordshire Better Care Fund Plan for 2024-25"]),
    (16, [f"{BOARD} note the progress on the delivery of priorities 5 & 6"]),
    (17, ["Note the progress achieved in the first three quarters",
          "Approve the mechanisms established to monitor the progress",
          "Comment on the progress achieved to date",
          "Note that the Place Based Partnership will be accountable"]),
    (19, ["The Committee noted the Forward Work Programme."]),
]  # fmt: skip


def _pack_extraction(services: Services) -> Extraction:
    stored = services.index.manifest.extraction(PACK)
    assert stored is not None, "ingest stores the extraction with the document"
    return Extraction.from_json(stored)


def test_agenda_pack_recommendations_found_completely(corpus_services: Services) -> None:
    found = _pack_extraction(corpus_services).recommendations
    missing = []
    for page, text, items in EXPECTED_RECOMMENDATIONS:
        match = [
            r for r in found
            if r.page <= page <= r.page_end and canonical(text) in canonical(r.text)
            and [canonical(i.text) for i in r.items] == [canonical(i) for i in items]
        ]  # fmt: skip
        if not match:
            missing.append((page, text[:70]))
    assert not missing, f"recommendations not found: {missing}"
    assert len(found) == len(EXPECTED_RECOMMENDATIONS), [(r.page, r.text[:60]) for r in found]


def test_agenda_pack_resolutions_found_item_by_item(corpus_services: Services) -> None:
    resolutions = [d for d in _pack_extraction(corpus_services).decisions if d.kind == "resolution"]
    assert len(resolutions) == len(EXPECTED_RESOLUTIONS)
    for (page, starts), resolution in zip(EXPECTED_RESOLUTIONS, resolutions, strict=True):
        assert resolution.page == page
        texts = [i.text for i in resolution.items] or [resolution.text]
        assert len(texts) == len(starts), (page, texts)
        for text, start in zip(texts, starts, strict=True):
            assert canonical(start) in canonical(text), (page, text)
    # A resolution ends where the minutes go on to the next item.
    assert all("(Agenda No." not in d.full_text() for d in resolutions)


def test_every_extracted_text_is_verbatim_on_its_page(corpus_services: Services) -> None:
    for doc in corpus_services.index.documents():
        pages = corpus_services.index.manifest.page_texts(doc.meta.doc_id)
        extraction_json = corpus_services.index.manifest.extraction(doc.meta.doc_id)
        assert extraction_json is not None
        for decision in Extraction.from_json(extraction_json).decisions:
            for text, first, last in [(decision.text, decision.page, decision.page_end)] + [
                (i.text, i.page, i.page_end) for i in decision.items
            ]:
                if text:
                    assert on_pages(text, pages, first, last), (doc.meta.doc_id, first, text)


def test_agenda_items_with_their_printed_page_ranges(corpus_services: Services) -> None:
    agenda = _pack_extraction(corpus_services).agenda
    assert [item.number for item in agenda] == [str(n) for n in range(1, 18)]
    by_number = {item.number: item for item in agenda}
    assert by_number["8"].title == "Prevention of Homelessness Director's Group Update"
    assert (by_number["8"].first_page, by_number["8"].last_page) == (17, 22)
    assert by_number["10"].title == "Oxfordshire Safeguarding Adults - Annual Report"
    assert (by_number["10"].first_page, by_number["10"].last_page) == (63, 116)
    assert by_number["10"].presenter == "Report by Director of Adult Social Care"
    assert (by_number["17"].first_page, by_number["17"].last_page) == (221, 222)
    assert by_number["6"].first_page is None  # a verbal update has no papers


def _block(text: str, kind: BlockKind, page: int = 1, paragraph: str | None = None) -> Block:
    return Block(text=text, kind=kind, page=page, page_end=page, paragraph=paragraph)


def test_lead_in_takes_its_items_and_a_statement_about_recommendations_is_not_one() -> None:
    blocks = [
        _block("RECOMMENDATION", BlockKind.RECOMMENDATION),
        _block("The Cabinet is RECOMMENDED to:", BlockKind.RECOMMENDATION),
        _block("(a) approve the budget;", BlockKind.NUMBERED, paragraph="(a)"),
        _block("(b) delegate authority to the Director.", BlockKind.NUMBERED, paragraph="(b)"),
        _block("Background", BlockKind.HEADING),
        _block("There are no risks that the Cabinet is asked to note.", BlockKind.PARAGRAPH),
        _block("It was agreed by the Board that the plan would be refreshed.", BlockKind.PARAGRAPH),
    ]
    extraction = extract(blocks)
    (recommendation,) = extraction.recommendations
    assert recommendation.text == "The Cabinet is RECOMMENDED to:"
    assert [(i.label, i.text) for i in recommendation.items] == [
        ("(a)", "approve the budget;"),
        ("(b)", "delegate authority to the Director."),
    ]
    agreed = [d.text for d in extraction.decisions if d.kind == "agreed"]
    assert agreed == ["It was agreed by the Board that the plan would be refreshed."]
    assert re.search("RECOMMENDED", Extraction.from_json(extraction.to_json()).decisions[0].text)
