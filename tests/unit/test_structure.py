"""Structure over the real agenda pack (loaded once: no embedding), over generated PDFs, and
the metadata each paper gets from the sidecar or from its own name and text.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest
from conftest import AGENDA_PACK, CORPUS, KEY_POINTS, MakeServices
from fpdf import FPDF

from ingest.models import Block, BlockKind, Chunk, DocumentMeta, Line, LoadedFile, Page
from ingest.pipeline import ingest_paths
from ingest.reading.chunking import chunk_blocks
from ingest.reading.loaders import load_file
from ingest.reading.metadata import describe, document_id, read_sidecar
from ingest.reading.structure import blocks_from_pages, join_lines, looks_like_heading
from ingest.store.embeddings import BundledEmbeddings
from service.settings import Settings

Pack = tuple[LoadedFile, list[Block]]


@pytest.fixture(scope="module")
def pack() -> Pack:
    loaded = load_file(AGENDA_PACK)
    return loaded, blocks_from_pages(loaded.pages)


def blocks_on(pack: Pack, page: int) -> list[Block]:
    return [block for block in pack[1] if block.page == page]


# --- numbered paragraphs and wrapped lines -------------------------------------------------


@pytest.mark.parametrize(
    ("page", "number", "opening"),
    [
        (20, "1", "This report provides a progress update on the work that has been undertaken"),
        (21, "7", "Of the nine priority actions, four are completed currently."),
        (23, "13", "A transformation programme commenced in summer 2024 and concluded"),
        (24, "19", "Nonetheless it is worth noting that, as stated above,"),
        (25, "2", "The Health and Wellbeing Board approved a new strategy in December 2023"),
        (29, "16", "There are no financial implications that the Health and Wellbeing Board"),
    ],
)
def test_numbered_paragraph_is_a_block_with_its_number(
    pack: Pack, page: int, number: str, opening: str
) -> None:
    found = [b for b in blocks_on(pack, page) if b.text.startswith(f"{number}. {opening}")]
    assert len(found) == 1, [b.text[:60] for b in blocks_on(pack, page)]
    assert found[0].paragraph == number
    assert found[0].kind is BlockKind.NUMBERED


def test_lettered_recommendation_items_are_numbered_blocks(pack: Pack) -> None:
    items = {b.paragraph: b for b in blocks_on(pack, 25) if b.paragraph in ("(a)", "(b)")}
    assert items["(a)"].text.startswith("(a) Note the progress on the delivery of priority 10")
    assert items["(b)"].text.startswith("(b) Comment on the draft Oxfordshire Way Prevention")
    assert {b.kind for b in items.values()} == {BlockKind.NUMBERED}


def test_hard_wrapped_paragraph_comes_out_as_one_block(pack: Pack) -> None:
    # Paragraph 7 on page 21 is printed over five lines; read them from the page itself.
    lines = pack[0].pages[20].text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("7. Of the nine"))
    end = next(i for i in range(start + 1, len(lines)) if re.match(r"\d+\. ", lines[i]))
    assert end - start == 5
    block = next(b for b in blocks_on(pack, 21) if b.paragraph == "7")
    assert block.text == " ".join(line.strip() for line in lines[start:end])
    assert block.text.endswith("relating to benchmarking by summer 2025.")


def test_compound_hyphen_at_a_known_prefix_is_kept(pack: Pack) -> None:
    # "co-" / "ordinate" across a line break on page 32 is the word "co-ordinate".
    assert "co-\nordinate" in pack[0].pages[31].text
    assert any("co-ordinate" in b.text for b in pack[1] if b.page <= 32 <= b.page_end)
    assert not any("coordinate the" in b.text for b in blocks_on(pack, 32))


# --- recommendations, resolutions, agenda items --------------------------------------------

RECOMMENDED_TO = re.compile(r"\bis\s+RECOMMENDED\s+to\b")


def test_every_is_recommended_to_is_in_a_recommendation_block(pack: Pack) -> None:
    loaded, blocks = pack
    in_pages = sum(len(RECOMMENDED_TO.findall(page.text)) for page in loaded.pages)
    assert in_pages == 17  # counted by reading the pack: 7 in the agenda, 3 in minutes, 7 reports
    in_recommendations = sum(
        len(RECOMMENDED_TO.findall(b.text)) for b in blocks if b.kind is BlockKind.RECOMMENDATION
    )
    assert in_recommendations == in_pages
    pages = sorted({b.page for b in blocks if RECOMMENDED_TO.search(b.text)})
    assert pages == [3, 4, 5, 6, 13, 16, 20, 25, 56, 95, 114, 131, 159]


def test_recommendation_opens_with_the_board(pack: Pack) -> None:
    found = [b for b in blocks_on(pack, 20) if RECOMMENDED_TO.search(b.text)]
    assert [(b.kind, b.text) for b in found] == [
        (
            BlockKind.RECOMMENDATION,
            "The Health and Wellbeing Board is RECOMMENDED to note the report",
        )
    ]


@pytest.mark.parametrize(
    ("page", "text"),
    [
        (10, "RESOLVED: That the Board APPROVED the notes of the last meeting held on 14 March "
             "2024 and the Chair be authorised to sign them as a correct record."),
        (12, "RESOLVED to:"),
        (13, "RESOLVED to:"),
        (15, "RESOLVED to:"),
        (17, "RESOLVED to:"),
    ],
)  # fmt: skip
def test_resolved_is_a_resolution_block(pack: Pack, page: int, text: str) -> None:
    assert [b.text for b in blocks_on(pack, page) if b.kind is BlockKind.RESOLUTION] == [text]


def test_both_resolutions_on_one_page_are_found(pack: Pack) -> None:
    resolutions = [b for b in blocks_on(pack, 16) if b.kind is BlockKind.RESOLUTION]
    assert [b.text for b in resolutions] == ["RESOLVED to:", "RESOLVED to:"]


def test_agenda_items_with_page_ranges(pack: Pack) -> None:
    items = [(b.page, b.paragraph, b.text) for b in pack[1] if b.kind is BlockKind.AGENDA_ITEM]
    assert items == [
        (2, "5", "5. Note of Decisions of Last Meeting (Pages 1 - 16)"),
        (2, "8", "8. Prevention of Homelessness Director's Group Update (Pages 17 - 22)"),
        (3, "9", "9. Development of Oxfordshire Way Prevention Strategy (Pages 23 - 62)"),
        (4, "10", "10. Oxfordshire Safeguarding Adults - Annual Report (Pages 63 - 116)"),
        (4, "11", "11. Oxfordshire Safeguarding Children's - Annual Report (Pages 117 - 134)"),
        (4, "12", "12. Safer Oxfordshire Partnership Update (Pages 135 - 154)"),
        (4, "13", "13. Domestic Abuse Safer Accommodation Strategy (Pages 155 - 194)"),
        (5, "14", "14. Oxfordshire Combating Drugs Partnership - Annual Report (Pages 195 - 208)"),
        (6, "15", "15. Report from Healthwatch Oxfordshire (Pages 209 - 214)"),
        (6, "16", "16. Reports from Partnership Boards (Pages 215 - 220)"),
        (6, "17", "17. Forward Work Programme (Pages 221 - 222)"),
    ]


def test_agenda_item_opens_the_section_that_follows(pack: Pack) -> None:
    after = next(
        b for b in blocks_on(pack, 2) if b.text.startswith("To approve the Note of Decisions")
    )
    assert after.section[-1] == "5. Note of Decisions of Last Meeting (Pages 1 - 16)"


# --- page furniture -------------------------------------------------------------------------


def test_page_number_at_the_foot_of_a_pack_page_is_dropped(pack: Pack) -> None:
    visible = [line.text for line in pack[0].pages[107].lines if line.text.strip()]
    assert "Page 129" in visible[-2:]
    assert not any("Page 129" in b.text for b in pack[1] if b.page <= 108 <= b.page_end)


PARAGRAPHS = 30
_TOPICS = [
    "libraries",
    "parks",
    "roads",
    "schools",
    "care",
    "housing",
    "waste",
    "transport",
    "youth",
    "museums",
]


def _minute(n: int) -> str:
    """Paragraph n: its own words, so no body line repeats on every page as a header would."""
    rng = random.Random(n)
    topics = " and ".join(rng.sample(_TOPICS, 3))
    return (
        f"{n}. The Cabinet considered item {n} of the budget report, on {topics}. Members "
        f"asked how savings of {rng.randint(2, 90)} thousand pounds would fall on front-line "
        f"services and were told that officers would report on {rng.choice(_TOPICS)} to the "
        f"next meeting (minute {n})."
    )


def _paper_with_header_and_footer(path: Path) -> Path:
    class Paper(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=9)
            self.cell(0, 8, "Cabinet - 12 March 2024", new_x="LMARGIN", new_y="NEXT")
            self.ln(6)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", size=9)
            self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Paper()
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    for n in range(1, PARAGRAPHS + 1):
        pdf.multi_cell(0, 7, _minute(n), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(5)
    pdf.output(str(path))
    return path


def test_repeated_headers_footers_and_page_numbers_are_dropped(tmp_path: Path) -> None:
    loaded = load_file(_paper_with_header_and_footer(tmp_path / "cabinet.pdf"))
    assert len(loaded.pages) >= 3
    assert all("Cabinet - 12 March 2024" in page.text for page in loaded.pages)
    blocks = blocks_from_pages(loaded.pages)
    assert [b.paragraph for b in blocks] == [str(n) for n in range(1, PARAGRAPHS + 1)]
    assert not any("12 March 2024" in b.text or re.search(r"Page \d", b.text) for b in blocks)
    # A paragraph cut by a page break is one block spanning both pages.
    spanning = [b for b in blocks if b.page_end > b.page]
    assert spanning
    assert [b.text for b in blocks] == [_minute(n) for n in range(1, PARAGRAPHS + 1)]


# --- join_lines -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "joined"),
    [
        (["The board agreed the", "budget for 2024/25."], "The board agreed the budget for 2024/25"
         "."),
        (["  The   board ", "", "  met. "], "The board met."),
        (["arrangements for safe-", "guarding adults"], "arrangements for safe-guarding adults"),
        (["the health and well-", "being of residents"], "the health and well-being of residents"),
        (["trauma-", "informed practice"], "trauma-informed practice"),
        (["the Co-", "ordination Group"], "the Co-ordination Group"),
        (["the financial year 2023-", "24"], "the financial year 2023-24"),
        (["recovery from COVID-", "19"], "recovery from COVID-19"),
        (["Oxford City Council -", "Cabinet"], "Oxford City Council - Cabinet"),
        (["see https://www.oxfordshire.gov.uk/", "cabinet"], "see https://www.oxfordshire.gov.uk/cabinet"),
        ([], ""),
    ],
)  # fmt: skip
def test_join_lines(lines: list[str], joined: str) -> None:
    assert join_lines(lines) == joined


@pytest.mark.parametrize(
    ("vocabulary", "joined"),
    [
        ({"safeguarding"}, "arrangements for safeguarding adults"),  # the paper spells it whole
        ({"safeguarding", "safe-guarding"}, "arrangements for safe-guarding adults"),
        (set(), "arrangements for safe-guarding adults"),  # no evidence: keep the hyphen
    ],
)
def test_line_end_hyphen_is_mended_only_for_words_the_document_spells_whole(
    vocabulary: set[str], joined: str
) -> None:
    assert join_lines(["arrangements for safe-", "guarding adults"], vocabulary) == joined


def test_a_word_broken_over_three_lines_is_mended_whole() -> None:
    vocabulary = {"safeguard", "safeguarding"}
    joined = join_lines(["for safe-", "guard-", "ing adults"], vocabulary)
    assert joined == "for safeguarding adults"


LONG_MINUTE_LINES = 6000  # the archive's minutes run to tens of thousands of lines a page


def _wrapped_minute(n: int, line_count: int) -> list[str]:
    """Minute n hard-wrapped over `line_count` lines, as a converted PDF gives it, with every
    kind of line-end break `join_lines` decides on, the last ones thousands of lines in."""
    rng = random.Random(n)
    lines = [f"{n}. The council considered the budget for {rng.choice(_TOPICS)}"]
    lines += [
        f"and members asked about {rng.choice(_TOPICS)} in ward {k}" for k in range(line_count)
    ]
    for at in (line_count // 3, line_count - 8):
        lines[at : at + 8] = [
            "where the arrangements for safe-",
            "guarding children and trauma-",
            "informed practice in the City Council -",
            "Cabinet were set out at https://www.limerick.ie/",
            "council/budget and the 2023-",
            "24 figures and/",
            "or the forecasts of the co-",
            "ordination group",
        ]
    return [*lines, "were noted."]


def _joined_by_hand(lines: list[str]) -> str:
    return (
        " ".join(lines)
        .replace("safe- guarding", "safeguarding")  # the paper spells "safeguarding" whole
        .replace("trauma- informed", "trauma-informed")  # and never "traumainformed"
        .replace("limerick.ie/ council", "limerick.ie/council")
        .replace("2023- 24", "2023-24")
        .replace("and/ or", "and/or")
        .replace("co- ordination", "co-ordination")
    )


def test_a_page_of_thousands_of_lines_joins_into_its_paragraphs(
    tmp_path: Path,
) -> None:
    heading = "MINUTES OF THE BUDGET MEETING"
    opening = "The safeguarding board reported to the meeting."
    minutes = [_wrapped_minute(n, LONG_MINUTE_LINES if n == 2 else 40) for n in (1, 2, 3)]
    paragraphs = ["\n".join(lines) for lines in minutes]
    paper = tmp_path / "budget-minutes.md"
    paper.write_text("\n\n".join([f"# {heading}", opening, *paragraphs]) + "\n")
    loaded = load_file(paper)
    assert len(loaded.pages) == 1
    assert len(loaded.pages[0].lines) > LONG_MINUTE_LINES
    blocks = blocks_from_pages(loaded.pages)
    assert [(b.kind, b.text, b.section, b.paragraph) for b in blocks] == [
        (BlockKind.HEADING, heading, (), None),
        (BlockKind.PARAGRAPH, opening, (heading,), None),
        *[
            (BlockKind.NUMBERED, _joined_by_hand(lines), (heading,), str(n))
            for n, lines in enumerate(minutes, start=1)
        ],
    ]


# --- metadata ------------------------------------------------------------------------------


def test_sidecar_metadata_for_the_pack(pack: Pack) -> None:
    loaded, blocks = pack
    meta = describe(AGENDA_PACK, blocks, loaded.pdf_title, read_sidecar(CORPUS))
    assert meta == DocumentMeta(
        doc_id="2024-12-05-oxfordshire-health-wellbeing-board-agenda-pack",
        source=AGENDA_PACK.name,
        title="Oxfordshire Health & Wellbeing Board agenda pack, 5 December 2024",
        body="Oxfordshire Health & Wellbeing Board",
        date="2024-12-05",
        doc_type="agenda pack",
        access="public",
        url=None,
    )


@pytest.mark.parametrize(
    ("name", "body", "date", "doc_type", "title"),
    [
        ("2023-11-09_cabinet_budget-minutes.pdf", "Cabinet", "2023-11-09", "minutes",
         "Budget minutes"),
        ("2019-04_scrutiny-panel_annual-report.pdf", "Scrutiny Panel", "2019-04-01",
         "annual report", "Annual report"),
        ("coordination-notes.pdf", "Unknown body", None, "meeting notes", "Coordination notes"),
        ("2021-01-20_audit-committee_treasury.pdf", "Audit Committee", "2021-01-20", "paper",
         None),
        ("Scan0001.pdf", "Unknown body", None, "paper", None),
    ],
)  # fmt: skip
def test_metadata_inferred_without_a_sidecar_entry(
    tmp_path: Path, name: str, body: str, date: str | None, doc_type: str, title: str | None
) -> None:
    path = Path(shutil.copy(KEY_POINTS, tmp_path / name))
    loaded = load_file(path)
    blocks = blocks_from_pages(loaded.pages)
    meta = describe(path, blocks, loaded.pdf_title, read_sidecar(tmp_path))
    assert (meta.body, meta.date, meta.doc_type, meta.access) == (body, date, doc_type, "public")
    assert meta.doc_id == document_id(path)
    # No sidecar and no PDF title: a file name of two words or more names it, else the
    # paper's first heading does.
    assert loaded.pdf_title is None
    first_heading = next(b.text for b in blocks if b.kind is BlockKind.HEADING)
    assert meta.title == (title or first_heading)


def test_ingest_records_sidecar_and_inferred_metadata(
    tmp_path: Path, settings: Settings, make_services: MakeServices
) -> None:
    papers = tmp_path / "papers"
    papers.mkdir()
    listed = Path(shutil.copy(KEY_POINTS, papers / "2017-07-05_coordination_key-points.pdf"))
    unlisted = papers / "2024-02-14_parks-committee_notes.md"
    unlisted.write_text(
        "# Parks Committee Notes\n\nThe committee agreed to plant four hundred trees along "
        "the river path and thanked the volunteers.\n",
        encoding="utf-8",
    )
    (papers / "metadata.json").write_text(
        '{"files": {"2017-07-05_coordination_key-points.pdf": {"title": "SOP key points",'
        ' "body": "Safer Oxfordshire Partnership", "date": "2017-07-05",'
        ' "doc_type": "meeting notes", "access": "restricted",'
        ' "url": "https://example.org/key-points.pdf"}}}',
        encoding="utf-8",
    )
    index = make_services(settings).index
    assert ingest_paths([papers], index).ok

    stored = {doc.meta.source: doc.meta for doc in index.documents()}
    assert stored[listed.name] == DocumentMeta(
        doc_id="2017-07-05-coordination-key-points",
        source=listed.name,
        title="SOP key points",
        body="Safer Oxfordshire Partnership",
        date="2017-07-05",
        doc_type="meeting notes",
        access="restricted",
        url="https://example.org/key-points.pdf",
    )
    assert stored[unlisted.name] == DocumentMeta(
        doc_id="2024-02-14-parks-committee-notes",
        source=unlisted.name,
        title="Parks Committee Notes",
        body="Parks Committee",
        date="2024-02-14",
        doc_type="meeting notes",
        access="public",
        url=None,
    )


# --- headings set like sentences, and reports inside a pack --------------------------------


def test_a_heading_written_like_a_sentence_heads_the_paragraphs_under_it() -> None:
    blocks = blocks_from_pages(load_file(KEY_POINTS).pages)
    governance = next(b for b in blocks if b.text.startswith("As a joint priority for both"))
    assert governance.section == ("Domestic abuse update",)
    heading = next(b for b in blocks if b.text == "Domestic abuse update")
    assert heading.kind is BlockKind.HEADING


_BODY = "The partnership met four times this year and agreed its plan with every partner."


def _page_of_paragraphs(texts: list[str]) -> Page:
    """One page where every text is its own paragraph, set off by a paragraph gap."""
    return Page(number=1, lines=tuple(Line(text, gap_before=2.0) for text in texts))


def test_a_run_of_short_lines_is_a_list_not_headings() -> None:
    page = _page_of_paragraphs(
        [
            "The partnership agreed three priorities for the year ahead.",
            "Reduce the level of reoffending",
            "Tackle domestic abuse and its causes",
            "Protect vulnerable people from harm",
            "These were agreed in June after a long consultation with partners and residents.",
        ]
    )
    blocks = blocks_from_pages([page])
    assert [b.kind for b in blocks[1:4]] == [BlockKind.PARAGRAPH] * 3
    assert all(b.section == () for b in blocks)


def test_a_heading_set_right_above_another_introduces_it(pack: Pack) -> None:
    # "Our Priorities in 2024/25", then "Fighting modern slavery and serious violence", set
    # alike: the priorities' paragraphs are under both, not under the second alone
    line = "Reduce the harm caused by alcohol and drugs misuse."
    priority = next(b for b in pack[1] if b.text == line)
    assert priority.section[-2:] == (
        "Our Priorities in 2024/25",
        "Fighting modern slavery and serious violence",
    )


def test_stacked_headings_nest_and_the_next_heading_closes_them() -> None:
    page = _page_of_paragraphs(
        ["Our Priorities", "Tackling Violence", _BODY, "Our Achievements", _BODY]
    )
    blocks = blocks_from_pages([page])
    assert [b.kind for b in blocks] == [BlockKind.HEADING] * 2 + [
        BlockKind.PARAGRAPH, BlockKind.HEADING, BlockKind.PARAGRAPH
    ]  # fmt: skip
    assert blocks[2].section == ("Our Priorities", "Tackling Violence")
    # a heading after text is a sibling again, not a child
    assert blocks[4].section == ("Our Achievements",)


@pytest.mark.parametrize(
    "headings",
    [
        # a run of heading-like lines is a list, form labels or table cells, not levels
        ["Our Priorities", "Tackling Violence", "Knife Crime"],
        ["Our Priorities", "Tackling Violence", "Knife Crime", "Domestic Abuse"],
        # a numbered heading says its own level
        ["5. Financial Implications", "6. Legal Implications"],
    ],
)
def test_headings_that_do_not_introduce_the_next(headings: list[str]) -> None:
    blocks = blocks_from_pages([_page_of_paragraphs([*headings, _BODY])])
    assert [b.kind for b in blocks] == [BlockKind.HEADING] * len(headings) + [BlockKind.PARAGRAPH]
    assert blocks[-1].section == (headings[-1],)


@pytest.mark.parametrize(
    "line", ["November 2024", "5th December 2024", "Janice.White@oxfordshire.gov.uk"]
)
def test_a_date_or_an_address_set_apart_heads_no_section(line: str) -> None:
    page = _page_of_paragraphs(["Contact Details", _BODY, line, _BODY])
    blocks = blocks_from_pages([page])
    alone = next(b for b in blocks if b.text == line)
    # it stands alone (a chunk may open with it), but what follows is not under it
    assert alone.section == ("Contact Details",)
    assert blocks[-1].section == ("Contact Details",)


def test_a_report_inside_a_pack_heads_the_sections_of_that_report(pack: Pack) -> None:
    allocation = next(b for b in pack[1] if b.text.startswith("The OPCC has allocated"))
    assert allocation.section == ("Safer Oxfordshire Partnership", "Appendix 2 - Resourcing")
    # the next cover sheet starts the next report's sections afresh
    strategy = next(
        b for b in pack[1] if b.page > allocation.page and b.kind is BlockKind.RECOMMENDATION
    )
    assert strategy.section[0] == "Safer Accommodation Strategy"
    assert "Safer Oxfordshire Partnership" not in strategy.section


# --- chunks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lead_in",
    [
        "Protect vulnerable people through reducing the risk of abuse.",
        "Reduce the harm caused by alcohol and drugs misuse.",
    ],
)
def test_a_short_lead_in_opens_the_chunk_it_introduces(
    pack: Pack, embeddings: BundledEmbeddings, lead_in: str
) -> None:
    # These priority headings end in a full stop, so they read as one-line paragraphs; each
    # falls last in a chunk that has run out of room, and belongs with the text after it.
    loaded, blocks = pack
    meta = describe(AGENDA_PACK, blocks, loaded.pdf_title, {})
    max_tokens = Settings().chunk_max_tokens
    chunks = chunk_blocks(blocks, meta, loaded.sha256, embeddings.count_tokens, max_tokens)
    holding = [chunk for chunk in chunks if lead_in in chunk.text]
    assert len(holding) == 1
    assert holding[0].text.startswith(lead_in)
    assert len(holding[0].text) > 2 * len(lead_in)  # and the text it introduces follows


_TITLE = "A report"
_SECTION = ("Our priorities",)
_INTRO = "The partnership met its partners and agreed the plan for the year. " * 2


def _chunks_of(blocks: list[Block], embeddings: BundledEmbeddings) -> list[Chunk]:
    meta = DocumentMeta("doc", "doc.pdf", _TITLE, "A board", None, "report")
    max_tokens = Settings().chunk_max_tokens
    return chunk_blocks(blocks, meta, "0" * 64, embeddings.count_tokens, max_tokens)


def _text_of(tokens: int, embeddings: BundledEmbeddings, opening: str = "") -> str:
    """A paragraph the model reads as exactly `tokens` word-pieces."""
    text = (opening + "plan " * (tokens - embeddings.count_tokens(opening))).strip()
    assert embeddings.count_tokens(text) == tokens  # "plan" is one word-piece
    return text


def _budget(section: tuple[str, ...], embeddings: BundledEmbeddings) -> int:
    header = f"{_TITLE} — {' > '.join(section)}"
    return Settings().chunk_max_tokens - embeddings.count_tokens(header)


def test_a_carried_lead_in_leaves_the_kind_and_number_to_what_it_introduces(
    embeddings: BundledEmbeddings,
) -> None:
    blocks = [
        Block(_text_of(200, embeddings), BlockKind.PARAGRAPH, 1, 1, _SECTION),
        Block("Reduce the harm caused by drugs misuse.", BlockKind.PARAGRAPH, 1, 1, _SECTION),
        Block(_text_of(150, embeddings, "1. "), BlockKind.NUMBERED, 2, 2, _SECTION, "1"),
    ]
    chunks = _chunks_of(blocks, embeddings)
    opening = next(c for c in chunks if c.text.startswith("Reduce the harm"))
    assert (opening.kind, opening.paragraph) == ("numbered", "1")


@pytest.mark.parametrize(
    ("short", "number"),
    [("8. There is no risk to note.", "8"), ("•", None)],
)
def test_a_numbered_point_or_a_lone_mark_is_not_carried(
    embeddings: BundledEmbeddings, short: str, number: str | None
) -> None:
    # sized so the short block is last in a chunk that has run out of room, and would fit
    # with the paragraph after it
    kind = BlockKind.NUMBERED if number else BlockKind.PARAGRAPH
    after = _budget(_SECTION, embeddings) - 20
    blocks = [
        Block(_INTRO.strip(), BlockKind.PARAGRAPH, 1, 1, _SECTION),
        Block(short, kind, 1, 1, _SECTION, number),
        Block(_text_of(after, embeddings, "9. "), BlockKind.NUMBERED, 2, 2, _SECTION, "9"),
    ]
    chunks = _chunks_of(blocks, embeddings)
    assert [c.paragraph for c in chunks] == [number, "9"]
    assert chunks[0].text.endswith(short)
    assert chunks[1].text.startswith("9.")


def test_carrying_a_lead_in_never_leaves_a_heading_alone(embeddings: BundledEmbeddings) -> None:
    section = ("Priorities",)
    lead_in = "Tiny title line here."
    # the lead-in and this paragraph fill a chunk exactly; with the heading they overflow
    rest = _budget(section, embeddings) - embeddings.count_tokens(lead_in)
    blocks = [
        Block("Priorities", BlockKind.HEADING, 1, 1, ()),
        Block(lead_in, BlockKind.PARAGRAPH, 1, 1, section),
        Block(_text_of(rest, embeddings), BlockKind.PARAGRAPH, 1, 1, section),
    ]
    chunks = _chunks_of(blocks, embeddings)
    assert len(chunks) == 2
    assert chunks[0].text == f"Priorities\n\n{lead_in}"


@pytest.mark.parametrize(
    ("line", "heading"),
    [
        # a table's rows: more figures than words
        ("Total Debt 950.4 885.3 843.8 808.4 790.1", False),
        ("Millmead £318.88 £128.86 £1,099.53", False),
        ("Yes 186 18%", False),
        # headings that carry a figure or two
        ("Quarter 3 2024/25 Performance Report", True),
        ("290. Section 25 Report (Item 5)", True),
        ("2024-25 Budget", True),
        ("Appendix 3", True),
    ],
)
def test_a_table_row_of_figures_is_no_heading(line: str, heading: bool) -> None:
    assert looks_like_heading(line) is heading
