"""The ingest pipeline against real Chroma, the real model and real PDFs, each test in its own
fresh data folder: idempotence, replacement, bad files in a batch, removal, resumability and
what the CLI prints.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY_POINTS, PROTOCOL, MakeServices
from fpdf import FPDF
from pypdf import PdfWriter

from ingest.models import Chunk, DocumentMeta, LoadedFile
from ingest.pipeline import Outcome, ingest_paths
from ingest.reading.chunking import chunk_blocks
from ingest.reading.loaders import load_file, sha256_of
from ingest.reading.metadata import describe, document_id
from ingest.reading.structure import blocks_from_pages
from ingest.reading.versions import document_version
from ingest.store.index import make_chroma_client
from service.cli.main import main
from service.container import Services
from service.settings import Settings

LIBRARY_TEXT = [
    "Library Services Review",
    "The cabinet member reported that branch libraries in the north of the county will open "
    "on Saturday afternoons from September. Opening hours at the central library stay as "
    "they are.",
    "Members asked for visitor numbers for each branch to be brought to the next meeting, "
    "together with the cost of the longer hours.",
]
PARKS_TEXT = [
    "Parks and Open Spaces",
    "The parks team has planted four hundred trees along the river path this winter. "
    "Volunteers from the friends groups helped at every site.",
    "The committee thanked the volunteers and agreed to report on tree survival in spring.",
]


def write_pdf(path: Path, paragraphs: list[str]) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    for paragraph in paragraphs:
        pdf.multi_cell(0, 7, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
    pdf.output(str(path))
    return path


def write_encrypted(path: Path) -> Path:
    writer = PdfWriter(clone_from=KEY_POINTS)
    writer.encrypt(user_password="letmein", owner_password="owner", algorithm="AES-256")
    writer.write(path)
    return path


def write_truncated(path: Path) -> Path:
    data = KEY_POINTS.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def chroma_collection(settings: Settings) -> Any:
    """The collection read through a client of our own, not through the index under test."""
    return make_chroma_client(settings).get_collection(settings.collection)


def chroma_ids(settings: Settings) -> set[str]:
    return set(chroma_collection(settings).get(include=[])["ids"])


def live_chunk_ids(services: Services) -> set[str]:
    return {chunk.chunk_id for chunk in services.index.manifest.live_chunks()}


def assert_consistent(settings: Settings, services: Services) -> None:
    """Chroma, the manifest and the keyword index hold exactly the live chunks."""
    live = live_chunk_ids(services)
    assert chroma_ids(settings) == live
    assert set(services.index.keyword_index().chunk_ids) == live
    expected = sum(doc.chunk_count for doc in services.index.documents())
    assert len(live) == expected


def read_as_version(
    path: Path, version: str, services: Services, settings: Settings
) -> tuple[LoadedFile, DocumentMeta, list[Chunk]]:
    """A file read into chunks of the given version, as an ingest would, not yet indexed."""
    loaded = load_file(path)
    blocks = blocks_from_pages(loaded.pages)
    meta = describe(path, blocks, loaded.pdf_title, {})
    count_tokens = services.index.embeddings.count_tokens  # type: ignore[attr-defined]
    chunks = chunk_blocks(blocks, meta, version, count_tokens, settings.chunk_max_tokens)
    return loaded, meta, chunks


def test_reingest_of_unchanged_files_does_nothing(
    tmp_path: Path, settings: Settings, make_services: MakeServices
) -> None:
    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(KEY_POINTS, papers / KEY_POINTS.name)
    write_pdf(papers / "2024-03-01_cabinet_library-review.pdf", LIBRARY_TEXT)
    services = make_services(settings)

    first = ingest_paths([papers], services.index)
    assert [f.outcome for f in first.files] == [Outcome.ADDED, Outcome.ADDED]
    assert first.embedded_chunks > 0
    count = services.index.chunk_count()
    generation = services.index.manifest.generation()

    second = ingest_paths([papers], services.index)
    assert [f.outcome for f in second.files] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
    assert second.embedded_chunks == 0
    assert second.ok
    assert services.index.chunk_count() == count
    assert services.index.manifest.generation() == generation  # nothing was republished
    assert_consistent(settings, services)


def test_a_file_read_by_older_reading_rules_is_read_again_once(
    tmp_path: Path, settings: Settings, make_services: MakeServices
) -> None:
    path = write_pdf(tmp_path / "2024-03-01_cabinet_library-review.pdf", LIBRARY_TEXT)
    services = make_services(settings)
    index = services.index
    # what an older release left: the same bytes live under the version its rules gave
    old_version = sha256_of(path)  # releases before the reading rules had a number
    loaded, meta, chunks = read_as_version(path, old_version, services, settings)
    index.replace_document(meta, old_version, str(path), loaded.pages, chunks)

    first = ingest_paths([path], index)
    assert [f.outcome for f in first.files] == [Outcome.UPDATED]
    live = index.document(meta.doc_id)
    assert live is not None
    version = document_version(sha256_of(path), settings.chunk_max_tokens)
    assert live.version == version != old_version
    assert {c.version for c in index.manifest.live_chunks()} == {live.version}
    assert_consistent(settings, services)

    second = ingest_paths([path], index)
    assert [f.outcome for f in second.files] == [Outcome.UNCHANGED]


def test_a_new_chunk_size_rechunks_unchanged_files(
    tmp_path: Path, settings: Settings, make_services: MakeServices
) -> None:
    path = write_pdf(tmp_path / "2024-03-01_cabinet_library-review.pdf", LIBRARY_TEXT * 4)
    assert ingest_paths([path], make_services(settings).index).ok
    smaller = settings.model_copy(update={"chunk_max_tokens": 96})
    services = make_services(smaller)
    before = services.index.chunk_count()

    report = ingest_paths([path], services.index)
    assert [f.outcome for f in report.files] == [Outcome.UPDATED]
    assert services.index.chunk_count() > before
    assert_consistent(smaller, services)


def test_changed_file_replaces_its_old_version(
    tmp_path: Path, settings: Settings, make_services: MakeServices
) -> None:
    path = tmp_path / "2017-07-05_coordination-group_notes.pdf"
    shutil.copy(KEY_POINTS, path)
    services = make_services(settings)
    doc_id = document_id(path)
    old_report = ingest_paths([path], services.index)
    assert old_report.files[0].outcome is Outcome.ADDED
    old_version = services.index.version_of(doc_id)
    old_ids = live_chunk_ids(services)

    write_pdf(path, LIBRARY_TEXT)
    new_report = ingest_paths([path], services.index)

    assert new_report.files[0].outcome is Outcome.UPDATED
    stored = services.index.document(doc_id)
    assert stored is not None
    assert stored.version not in (None, old_version)
    assert [d.meta.doc_id for d in services.index.documents()] == [doc_id]
    new_ids = live_chunk_ids(services)
    assert new_ids.isdisjoint(old_ids)
    assert len(new_ids) == new_report.files[0].chunks == stored.chunk_count
    assert {c.version for c in services.index.manifest.live_chunks()} == {stored.version}
    assert {m["version"] for m in chroma_collection(settings).get(include=["metadatas"])[
        "metadatas"
    ]} == {stored.version}  # fmt: skip
    assert services.index.manifest.chunks_by_id(old_ids) == {}
    assert_consistent(settings, services)
    pages = services.index.manifest.page_texts(doc_id)
    assert list(pages) == [1]
    assert "visitor numbers for each branch" in pages[1]

    # Words only the old version had find nothing of it, by meaning or by keyword.
    old_only = "Healthwatch safeguarding concerns and financial abuse of older people"
    hits = services.retriever.search(old_only, k=10)
    assert all(hit.chunk.version == stored.version for hit in hits)
    assert not any("safeguarding" in hit.chunk.text.lower() for hit in hits)
    assert services.index.keyword_index().scores("Healthwatch safeguarding") == {}


def test_bad_files_are_skipped_and_the_rest_of_the_batch_goes_in(
    tmp_path: Path, settings: Settings, make_services: MakeServices
) -> None:
    papers = tmp_path / "papers"
    papers.mkdir()
    good_pdf = shutil.copy(KEY_POINTS, papers / KEY_POINTS.name)
    encrypted = write_encrypted(papers / "2024-01-10_board_confidential.pdf")
    corrupt = write_truncated(papers / "2024-02-01_board_damaged.pdf")
    good_md = papers / "2024-03-01_parks-committee_notes.md"
    good_md.write_text("# " + "\n\n".join(PARKS_TEXT), encoding="utf-8")
    services = make_services(settings)

    report = ingest_paths([papers], services.index)

    outcomes = {Path(f.path).name: f for f in report.files}
    assert {name: f.outcome for name, f in outcomes.items()} == {
        Path(good_pdf).name: Outcome.ADDED,
        encrypted.name: Outcome.SKIPPED,
        corrupt.name: Outcome.SKIPPED,
        good_md.name: Outcome.ADDED,
    }
    assert "password" in (outcomes[encrypted.name].reason or "")
    assert "not a readable PDF" in (outcomes[corrupt.name].reason or "")
    assert not report.ok
    assert {d.meta.source for d in services.index.documents()} == {
        Path(good_pdf).name,
        good_md.name,
    }
    assert_consistent(settings, services)
    hits = services.retriever.search("How many trees did the parks team plant?", k=3)
    assert hits[0].chunk.meta.source == good_md.name


def test_cli_ingest_prints_a_line_per_file_and_fails_when_one_is_skipped(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(KEY_POINTS, papers / KEY_POINTS.name)
    encrypted = write_encrypted(papers / "2024-01-10_board_confidential.pdf")
    # what a print driver leaves before the header: pypdf reads past it, and says so
    mended = papers / "2016-05-12_protocol_printed.pdf"
    mended.write_bytes(b"GPL Ghostscript 9.05\n" + PROTOCOL.read_bytes())
    data_dir = ["--data-dir", str(settings.data_dir)]

    code = main([*data_dir, "ingest", "--quiet", str(papers)])

    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    good = next(line for line in lines if line.startswith(KEY_POINTS.name))
    name, outcome, pages, chunks, note = good.split(maxsplit=4)
    assert (name, outcome, pages) == (KEY_POINTS.name, "added", "2")
    assert int(chunks) > 0
    # no sidecar here: what was read from the paper and its name is shown
    assert note == (
        "inferred title 'Key points', body 'Sop Coordination Group', date '2017-07-05', "
        "type 'meeting notes'"
    )
    skipped = next(line for line in lines if line.startswith(encrypted.name))
    assert skipped.split()[1:4] == ["skipped", "0", "0"]
    assert "encrypted with a password" in skipped
    repaired = next(line for line in lines if line.startswith(mended.name))
    assert repaired.split()[1] == "added"
    assert "read with repairs (invalid pdf header" in repaired
    assert "export it again" in repaired
    embedded = int(chunks) + int(repaired.split()[3])
    assert f"3 files: 2 added, 1 skipped. {embedded} chunks embedded." in lines


def test_cli_remove_deletes_a_document_everywhere(
    tmp_path: Path, settings: Settings, make_services: MakeServices,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(KEY_POINTS, papers / KEY_POINTS.name)
    parks = write_pdf(papers / "2024-03-01_parks-committee_notes.pdf", PARKS_TEXT)
    services = make_services(settings)
    assert ingest_paths([papers], services.index).ok
    parks_id = document_id(parks)
    parks_chunks = {c.chunk_id for c in services.index.manifest.live_chunks()
                    if c.doc_id == parks_id}  # fmt: skip
    assert parks_chunks
    assert parks_chunks <= chroma_ids(settings)

    code = main(["--data-dir", str(settings.data_dir), "remove", parks.name])

    assert code == 0
    assert capsys.readouterr().out.strip() == f"Removed {parks_id}."
    assert services.index.document(parks_id) is None
    assert [d.meta.source for d in services.index.documents()] == [KEY_POINTS.name]
    assert chroma_ids(settings).isdisjoint(parks_chunks)
    assert set(services.index.keyword_index().chunk_ids).isdisjoint(parks_chunks)
    assert services.index.keyword_index().scores("volunteers planted trees river path") == {}
    assert_consistent(settings, services)

    assert main(["--data-dir", str(settings.data_dir), "remove", parks.name]) == 1
    assert "No document" in capsys.readouterr().err


def test_staged_but_unpublished_version_is_invisible_and_swept(
    tmp_path: Path, settings: Settings, make_services: MakeServices
) -> None:
    path = write_pdf(tmp_path / "2024-03-01_parks-committee_notes.pdf", PARKS_TEXT)
    services = make_services(settings)
    index = services.index
    assert ingest_paths([path], index).ok
    live = index.document(document_id(path))
    assert live is not None
    live_ids = live_chunk_ids(services)

    # A run that died mid-update: the new version is staged and its vectors are in Chroma,
    # but it was never published.
    staged_folder = tmp_path / "staged"
    staged_folder.mkdir()
    staged_file = write_pdf(staged_folder / path.name, LIBRARY_TEXT)
    loaded, meta, chunks = read_as_version(staged_file, sha256_of(staged_file), services, settings)
    staged_ids = {c.chunk_id for c in chunks}
    index.manifest.stage(meta, chunks[0].version, loaded.pages, chunks)
    chroma_collection(settings).upsert(
        ids=[c.chunk_id for c in chunks],
        embeddings=index.embeddings.embed_documents([c.context_text() for c in chunks]),
        documents=[c.text for c in chunks],
        metadatas=[
            {"doc_id": c.doc_id, "version": c.version, "page": c.page, "page_end": c.page_end,
             "kind": c.kind, "section": c.section, "paragraph": c.paragraph or ""}
            for c in chunks
        ],
    )  # fmt: skip
    assert staged_ids <= chroma_ids(settings)
    # The manifest never hands out a staged chunk, even when Chroma returns its id.
    assert index.manifest.chunks_by_id(staged_ids) == {}

    # Invisible: the old version is still the one listed and searched.
    assert index.document(meta.doc_id).version == live.version  # type: ignore[union-attr]
    hits = services.retriever.search("Saturday opening hours at branch libraries", k=10)
    assert hits
    assert {hit.chunk.chunk_id for hit in hits} <= live_ids
    assert index.keyword_index().scores("Saturday libraries") == {}
    assert live_chunk_ids(services) == live_ids

    # The next run sweeps the leftovers before it does anything else.
    report = ingest_paths([path], index)
    assert [f.outcome for f in report.files] == [Outcome.UNCHANGED]
    assert chroma_ids(settings) == live_ids
    assert index.manifest.chunks_by_id(staged_ids) == {}
    assert_consistent(settings, services)
