"""Word (.docx) and web-page (.html) papers through the real pipeline: read, indexed in real
Chroma with the real model, searched, cited; a folder's other files reported, not dropped in
silence (issue 22)."""

from __future__ import annotations

import random
from pathlib import Path

import docx
import pytest
from conftest import MakeServices

from ingest.pipeline import FileReport, IngestReport, Outcome, ingest_paths
from ingest.reading.loaders import UnreadableFileError, load_file
from ingest.reading.structure import blocks_from_pages
from service.citations import canonical
from service.container import Services
from service.settings import Settings

WORD_NAME = "2025-03-11_cabinet_library-hours.docx"
HTML_NAME = "2025-03-04_parks-committee_minutes.html"
WORD_ID = "2025-03-11-cabinet-library-hours"
HTML_ID = "2025-03-04-parks-committee-minutes"

LIBRARY_SENTENCE = (
    "Branch libraries in the north of the county will open on Saturday afternoons from "
    "September, staffed by the mobile library team."
)
TREES_SENTENCE = (
    "The parks team reported that four hundred oak saplings were planted along the river "
    "path this winter."
)

MINUTES_HTML = f"""<!DOCTYPE html>
<html><head><title>Minutes - Parks and Environment Committee - ModernGov</title>
<style>.mgContent {{ color: black }}</style>
<script>var siteSearch = "cookie consent banner script";</script></head>
<body>
<header><a href="/">Home</a> Oxfordshire County Council website</header>
<nav><ul><li><a href="/meetings">Meetings</a></li><li>Councillors</li></ul></nav>
<div id="modgov"><div class="mgContent">
<h1 class="mgMainTitleTxt">Minutes of the Parks and Environment Committee</h1>
<p>Present: Councillors Amara Patel (Chair), John Reed and Susan Okafor.</p>
<h2 class="mgSubTitleTxt">1. Apologies for Absence</h2>
<p>Apologies were received from Councillor Mark Ellis, who was attending a flood briefing.</p>
<h2 class="mgSubTitleTxt">2. Tree Planting Programme</h2>
<table class="mgItemTable"><tr><td class="mgItemNumberCell">2.1</td>
<td><p>{TREES_SENTENCE}</p></td></tr></table>
<ol><li>Volunteers from the friends groups helped at every planting site.</li>
<li>Officers will report the survival rate of the new trees in the spring.</li></ol>
<table><tr><th>Site</th><th>Trees planted</th></tr>
<tr><td>Riverside Meadow</td><td>250</td></tr><tr><td>Castle Mill Stream</td><td>150</td></tr>
</table>
<p>RESOLVED: That the tree planting report be noted with thanks to the volunteers.</p>
</div></div>
<footer>Copyright Oxfordshire County Council. Cookie settings.</footer>
</body></html>
"""


def write_word_paper(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("Library Opening Hours Review", style="Title")
    document.add_heading("Purpose of the Report", level=1)
    document.add_paragraph(
        "This report proposes longer opening hours for branch libraries. " + LIBRARY_SENTENCE
    )
    document.add_heading("Recommendations", level=1)
    document.add_paragraph(
        "The Cabinet is RECOMMENDED to approve the Saturday opening of branch libraries.",
        style="List Number",
    )
    document.add_paragraph(
        "The Cabinet is asked to note the extra staffing cost of the longer hours.",
        style="List Number",
    )
    document.add_heading("Financial Implications", level=1)
    document.add_paragraph("The extra cost of each branch is set out in the table below.")
    table = document.add_table(rows=3, cols=2)
    rows = [("Branch", "Annual cost"), ("Banbury", "£84,000"), ("Witney", "£61,500")]
    for row, (branch, cost) in enumerate(rows):
        table.cell(row, 0).text = branch
        table.cell(row, 1).text = cost
    document.add_paragraph("The total is met from the libraries reserve until March 2027.")
    document.save(str(path))
    return path


@pytest.fixture
def papers(tmp_path: Path) -> Path:
    folder = tmp_path / "papers"
    folder.mkdir()
    write_word_paper(folder / WORD_NAME)
    (folder / HTML_NAME).write_text(MINUTES_HTML, encoding="utf-8")
    # sorted first, so the good papers are read after the bad ones
    (folder / "2025-01-01_board_broken.docx").write_bytes(random.Random(22).randbytes(3000))
    (folder / "2025-01-02_board_blank.htm").write_bytes(b"")
    (folder / "2025-01-03_budget-figures.xlsx").write_bytes(b"PK\x03\x04 not a paper")
    (folder / "2025-01-04_old-report.doc").write_bytes(b"\xd0\xcf\x11\xe0 an old Word file")
    return folder


def ingested(
    papers: Path, settings: Settings, make_services: MakeServices
) -> tuple[Services, IngestReport]:
    services = make_services(settings)
    return services, ingest_paths([papers], services.index)


def by_name(report: IngestReport) -> dict[str, FileReport]:
    return {Path(f.path).name: f for f in report.files}


def page_texts(services: Services, doc_id: str) -> dict[int, str]:
    return services.index.manifest.page_texts(doc_id)


def test_word_and_html_papers_are_searchable_by_their_own_sentences(
    papers: Path, settings: Settings, make_services: MakeServices
) -> None:
    services, _ = ingested(papers, settings, make_services)

    library = services.retriever.search("Will branch libraries open on Saturday afternoons?", k=3)
    trees = services.retriever.search("How many oak saplings were planted by the river?", k=3)

    assert library[0].chunk.doc_id == WORD_ID
    assert canonical(LIBRARY_SENTENCE) in canonical(library[0].chunk.text)
    assert trees[0].chunk.doc_id == HTML_ID
    assert canonical(TREES_SENTENCE) in canonical(trees[0].chunk.text)
    # nothing of the web site around the minutes was indexed
    html_text = " ".join(page_texts(services, HTML_ID).values())
    for furniture in ("Cookie", "cookie", "Home", "siteSearch", "ModernGov", "Meetings"):
        assert furniture not in html_text


def test_a_cited_quote_is_verbatim_in_its_word_or_html_source_on_its_section_page(
    papers: Path, settings: Settings, make_services: MakeServices
) -> None:
    services, _ = ingested(papers, settings, make_services)

    for question, doc_id in (
        ("How many oak saplings did the parks team plant along the river path?", HTML_ID),
        ("When will branch libraries open on Saturday afternoons?", WORD_ID),
    ):
        result = services.ask(question)
        assert result.answered, question
        cited = [c for c in result.citations if c.chunk.doc_id == doc_id]
        assert cited, (question, [c.chunk.doc_id for c in result.citations])
        texts = page_texts(services, doc_id)
        for citation in cited:
            # verbatim in the text read from the file, on the section-page the citation names
            assert canonical(citation.quote) in canonical(texts[citation.page]), citation
            assert len(texts) > 1  # one page per top-level section, not one for all


def test_word_and_html_headings_become_sections_and_pages(
    papers: Path, settings: Settings, make_services: MakeServices
) -> None:
    services, ingest_report = ingested(papers, settings, make_services)
    report = by_name(ingest_report)
    word_pages = page_texts(services, WORD_ID)
    html_pages = page_texts(services, HTML_ID)

    # Title page, then one page per Heading 1; the cover, then one per h2 item
    assert report[WORD_NAME].pages == len(word_pages) == 4
    assert word_pages[3].startswith("Recommendations\n1. The Cabinet is RECOMMENDED")
    assert "2. The Cabinet is asked to note" in word_pages[3]  # the list's numbers, as shown
    assert "Branch: Banbury | Annual cost: £84,000" in word_pages[4]  # a row, with its header
    assert report[HTML_NAME].pages == len(html_pages) == 3
    assert html_pages[3].startswith("2. Tree Planting Programme\n2.1 The parks team")
    assert "1. Volunteers" in html_pages[3]
    assert "Riverside Meadow | 250" in html_pages[3]

    chunks = {
        (c.doc_id, c.text.split("\n")[0][:40]): c for c in services.index.manifest.live_chunks()
    }
    sections = {
        doc: {c.section for (d, _), c in chunks.items() if d == doc} for doc in (WORD_ID, HTML_ID)
    }
    assert any("Financial Implications" in s for s in sections[WORD_ID]), sections[WORD_ID]
    assert any("Tree Planting Programme" in s for s in sections[HTML_ID]), sections[HTML_ID]
    trees = next(c for (d, _), c in chunks.items() if d == HTML_ID and "oak saplings" in c.text)
    assert "2. Tree Planting Programme" in trees.section
    assert trees.page == 3


def test_unsupported_and_broken_files_are_reported_and_the_batch_goes_on(
    papers: Path, settings: Settings, make_services: MakeServices
) -> None:
    services, report = ingested(papers, settings, make_services)
    files = by_name(report)

    assert {name: f.outcome for name, f in files.items()} == {
        WORD_NAME: Outcome.ADDED,
        HTML_NAME: Outcome.ADDED,
        "2025-01-01_board_broken.docx": Outcome.SKIPPED,
        "2025-01-02_board_blank.htm": Outcome.SKIPPED,
        # files of a type not read here are told, with what to do, but fail nothing
        "2025-01-03_budget-figures.xlsx": Outcome.NOT_READ,
        "2025-01-04_old-report.doc": Outcome.NOT_READ,
    }
    assert "not a readable Word document" in (files["2025-01-01_board_broken.docx"].reason or "")
    assert "empty" in (files["2025-01-02_board_blank.htm"].reason or "")
    xlsx = files["2025-01-03_budget-figures.xlsx"].reason or ""
    assert "unsupported file type '.xlsx'" in xlsx
    assert "not a paper format we read" in xlsx
    assert "save it as .docx" in (files["2025-01-04_old-report.doc"].reason or "")
    assert not report.ok  # the broken .docx and the blank page
    assert {d.meta.doc_id for d in services.index.documents()} == {WORD_ID, HTML_ID}
    assert all(files[name].chunks > 0 for name in (WORD_NAME, HTML_NAME))


# --- the loaders alone: no model, no index -------------------------------------------------


def test_a_corrupt_docx_and_an_html_page_without_text_are_unreadable(tmp_path: Path) -> None:
    zipped = tmp_path / "not-word.docx"
    zipped.write_bytes(b"PK\x03\x04" + bytes(200))
    old = tmp_path / "renamed.docx"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + random.Random(1).randbytes(500))
    empty_page = tmp_path / "empty.html"
    empty_page.write_text("<html><head><script>x = 1</script></head><body></body></html>")

    with pytest.raises(UnreadableFileError, match="not a readable Word document"):
        load_file(zipped)
    with pytest.raises(UnreadableFileError, match=r"old Word \(\.doc\) file"):
        load_file(old)
    with pytest.raises(UnreadableFileError, match="no text"):
        load_file(empty_page)


def test_html_layout_tables_and_lists_read_as_paragraphs(tmp_path: Path) -> None:
    page = tmp_path / "agenda.htm"
    page.write_text(
        "<h1>Agenda</h1><table><tr><td>7.</td><td><p>Budget Monitoring Report</p>"
        "<p>The committee will consider the quarter three position.</p></td></tr></table>"
        "<ul><li>Item one of the list</li></ul><p>Line one<br>Line two of the text</p>",
        encoding="utf-8",
    )

    lines = [line.text for p in load_file(page).pages for line in p.lines]
    blocks = blocks_from_pages(load_file(page).pages)

    assert lines == [
        "Agenda",
        "7. Budget Monitoring Report",
        "The committee will consider the quarter three position.",
        "• Item one of the list",
        "Line one",
        "Line two of the text",
    ]
    assert any(b.paragraph == "7" for b in blocks)
