"""Small board papers the tests generate, so they run without `../shared`."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF


def make_pdf(
    path: Path, topic: str, pages: int = 2, revision: int = 1, mark: str | None = None
) -> Path:
    """A small board paper on `topic`: numbered paragraphs over `pages` pages; `mark`, a line
    printed above the first page's title ("NOT FOR PUBLICATION")."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for page in range(1, pages + 1):
        pdf.add_page()
        if mark and page == 1:
            pdf.multi_cell(0, 6, mark, new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 6, f"{topic.title()} report, page {page} (revision {revision})")
        for n in range(1, 6):
            pdf.ln(4)
            pdf.multi_cell(
                0, 6,
                f"{page}.{n} The {topic} service recorded {page * 100 + n * 7 + revision} "
                f"contacts in quarter {n}, and the committee reviewed the {topic} plan for "
                f"revision {revision}. Officers will report on progress in paragraph {n} of the "
                f"next {topic} update, with figures for each district and a note of the risks.",
            )  # fmt: skip
    pdf.output(str(path))
    return path


def pdf_folder(folder: Path, topics: list[str], pages: int = 2) -> Path:
    """A new folder holding one PDF per topic, named after it."""
    folder.mkdir()
    for topic in topics:
        make_pdf(folder / f"{topic}.pdf", topic, pages=pages)
    return folder


def markdown_folder(folder: Path, papers: dict[str, str]) -> Path:
    """A folder holding each paper (file name → its Markdown text)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in papers.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
