"""Document identity (issue 19, items 2-4), with the real model, real Chroma in a fresh data
folder per test and real PDFs: papers of one file name in two folders are two documents; a
paper moved or renamed with its bytes keeps its id and vectors; a symbolic link out of the
synced folder is refused, and a paper read through a link inside it goes when the link goes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MakeServices
from fastapi.testclient import TestClient
from papers import make_pdf

from ingest.pipeline import FileReport, Outcome, ingest_paths
from ingest.sync import SyncReport, sync_folders
from service.api.app import create_app
from service.cli.main import main
from service.container import Services
from service.settings import Settings

pytestmark = pytest.mark.faults


def _paper(path: Path, topic: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_pdf(path, topic)


def _documents(services: Services) -> dict[str, str]:
    """Each live document's id and the path the index records for it."""
    return {doc.meta.doc_id: doc.path for doc in services.index.documents()}


def _changes(report: SyncReport) -> list[FileReport]:
    return [f for f in report.files if f.outcome is not Outcome.UNCHANGED]


def _assert_consistent(services: Services) -> None:
    """Chroma and the manifest hold exactly the live chunks, each document its own."""
    live = services.index.manifest.live_chunks()
    assert sorted(c.chunk_id for c in live) == sorted(services.index.chroma_ids())
    for doc in services.index.documents():
        assert sum(1 for c in live if c.doc_id == doc.meta.doc_id) == doc.chunk_count


def _top_document(services: Services, topic: str) -> str:
    hits = services.retriever.search(f"How many contacts did the {topic} service record?", k=3)
    assert hits, topic
    return hits[0].chunk.doc_id


def test_one_file_name_in_two_folders_is_two_documents_read_once(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    papers = tmp_path / "papers"
    _paper(papers / "a" / "minutes.pdf", "housing")
    _paper(papers / "b" / "minutes.pdf", "transport")
    _paper(papers / "budget.pdf", "libraries")
    services = make_services(settings)

    first = sync_folders([papers], services.index)

    assert first.ok
    assert first.count(Outcome.ADDED) == 3
    root = papers.resolve()
    assert _documents(services) == {
        "a-minutes": str(root / "a" / "minutes.pdf"),
        "b-minutes": str(root / "b" / "minutes.pdf"),
        "budget": str(root / "budget.pdf"),  # a paper no other shares a name with: as ever
    }
    assert _top_document(services, "housing") == "a-minutes"  # both searchable
    assert _top_document(services, "transport") == "b-minutes"
    _assert_consistent(services)

    second = sync_folders([papers], services.index)  # nothing changed: nothing re-read
    assert _changes(second) == []
    assert second.removed == []

    # A third `minutes.pdf` later takes an id of its own; the two keep theirs.
    _paper(papers / "c" / "minutes.pdf", "waste")
    third = sync_folders([papers], services.index)
    assert [(f.doc_id, f.outcome) for f in _changes(third)] == [("c-minutes", Outcome.ADDED)]
    assert set(_documents(services)) == {"a-minutes", "b-minutes", "c-minutes", "budget"}
    _assert_consistent(services)


def test_a_paper_never_overwrites_another_of_the_same_name(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    papers = tmp_path / "papers"
    first_minutes = _paper(papers / "2024" / "minutes.pdf", "housing")
    services = make_services(settings)
    assert sync_folders([papers], services.index).ok
    assert _documents(services) == {"minutes": str(first_minutes.resolve())}
    housing_version = services.index.version_of("minutes")

    # Added later, elsewhere in the folder, and named alike (`Minutes.pdf` slugs as `minutes`):
    # new ids, and the first paper stays as it was, under the id it had.
    _paper(papers / "2025" / "minutes.pdf", "transport")
    _paper(papers / "2025" / "Minutes.pdf", "waste")
    report = sync_folders([papers], services.index)

    assert report.ok
    assert report.count(Outcome.ADDED) == 2
    assert report.count(Outcome.UPDATED) == 0
    assert services.index.version_of("minutes") == housing_version
    documents = _documents(services)
    assert len(documents) == 3
    assert documents["minutes"] == str(first_minutes.resolve())
    assert _top_document(services, "housing") == "minutes"
    assert {_top_document(services, "transport"), _top_document(services, "waste")} == (
        set(documents) - {"minutes"}
    )
    assert _changes(sync_folders([papers], services.index)) == []
    _assert_consistent(services)


def test_a_moved_paper_keeps_its_id_and_vectors(
    settings: Settings,
    make_services: MakeServices,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    papers = tmp_path / "papers"
    housing = _paper(papers / "housing.pdf", "housing")
    parks = _paper(papers / "parks.pdf", "parks")
    _paper(papers / "libraries.pdf", "libraries")
    services = make_services(settings)
    assert sync_folders([papers], services.index).ok
    before = {doc.meta.doc_id: doc for doc in services.index.documents()}
    chunk_ids = set(services.index.chroma_ids())

    # `mv papers/housing.pdf papers/2025/`, and a rename into it that says more of the paper
    (papers / "2025").mkdir()
    moved = housing.rename(papers / "2025" / "housing.pdf")
    renamed = parks.rename(papers / "2025" / "2025-01-15_parks-committee_minutes.pdf")
    data = ["--data-dir", str(settings.data_dir)]
    assert main([*data, "sync", "--quiet", str(papers)]) == 0

    out = capsys.readouterr().out
    assert f"moved     housing.pdf  — document housing, was at {housing.resolve()}" in out
    assert "moved     2025-01-15_parks-committee_minutes.pdf  — document parks" in out
    assert "3 files: 2 moved, 1 unchanged; 0 removed." in out
    after = {doc.meta.doc_id: doc for doc in services.index.documents()}
    assert set(after) == {"housing", "parks", "libraries"}
    assert after["housing"].path == str(moved.resolve())
    assert after["parks"].path == str(renamed.resolve())
    for doc_id in ("housing", "parks"):  # the same content, not read or embedded again
        assert after[doc_id].version == before[doc_id].version
        assert after[doc_id].ingested_at == before[doc_id].ingested_at
    assert set(services.index.chroma_ids()) == chunk_ids
    # What the new name says of the paper is taken up (date, body, type, file name).
    parks_meta = after["parks"].meta
    assert (parks_meta.source, parks_meta.date, parks_meta.body, parks_meta.doc_type) == (
        renamed.name, "2025-01-15", "Parks Committee", "minutes",
    )  # fmt: skip
    assert _top_document(services, "housing") == "housing"
    with TestClient(create_app(settings, services=services)) as client:
        served = client.get("/documents/housing/file")
        assert served.status_code == 200
        assert served.content == moved.read_bytes()
    _assert_consistent(services)

    # Moved and changed on the way: the same document, read again, at its new place.
    edited = make_pdf(moved.rename(papers / "housing.pdf"), "housing", revision=2)
    report = sync_folders([papers], services.index)
    assert [(f.doc_id, f.outcome, f.moved_from) for f in _changes(report)] == [
        ("housing", Outcome.UPDATED, str(moved.resolve())),
    ]
    assert report.removed == []
    assert _documents(services)["housing"] == str(edited.resolve())
    _assert_consistent(services)


def test_links_out_of_the_folder_are_refused_and_a_file_is_one_document(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    secret = _paper(outside / "secret.pdf", "policing")
    papers = tmp_path / "papers"
    housing = _paper(papers / "housing.pdf", "housing")
    (papers / "secret.pdf").symlink_to(secret)  # a file outside the folder
    (papers / "archive").symlink_to(outside, target_is_directory=True)  # a folder outside
    (papers / "current").mkdir()
    (papers / "current" / "latest.pdf").symlink_to(Path("..") / "housing.pdf")  # same file
    services = make_services(settings)

    report = sync_folders([papers], services.index)

    refused = {Path(f.path).name: f.reason or "" for f in report.files
               if f.outcome is Outcome.SKIPPED}  # fmt: skip
    assert set(refused) == {"secret.pdf", "archive"}
    assert refused["secret.pdf"] == (
        f"a symbolic link to a file outside the synced folder ({secret.resolve()}); "
        "copy the file in instead"
    )
    assert f"outside the synced folder ({outside.resolve()})" in refused["archive"]
    assert not report.ok
    assert _documents(services) == {"housing": str(housing.resolve())}
    hits = services.retriever.search("How many contacts did the policing service record?", k=5)
    assert {hit.chunk.doc_id for hit in hits} == {"housing"}
    # Named on its own, the link is refused too.
    alone = ingest_paths([papers / "secret.pdf"], services.index)
    assert [(f.outcome, f.reason) for f in alone.files] == [
        (Outcome.SKIPPED, f"a symbolic link to a file outside its folder ({secret.resolve()}); "
                          "copy the file in instead"),
    ]  # fmt: skip
    assert set(_documents(services)) == {"housing"}
    _assert_consistent(services)


def test_a_paper_read_through_a_link_goes_when_the_link_goes(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    papers = tmp_path / "papers"
    _paper(papers / "housing.pdf", "housing")
    _paper(papers / ".draft-waste.pdf", "waste")  # hidden: not a paper of its own
    link = papers / "waste-latest.pdf"
    link.symlink_to(".draft-waste.pdf")
    services = make_services(settings)

    assert sync_folders([papers], services.index).ok
    root = papers.resolve()
    # recorded at the link, inside the folder, not at the file it leads to
    assert _documents(services) == {
        "housing": str(root / "housing.pdf"),
        "waste-latest": str(root / "waste-latest.pdf"),
    }
    assert _top_document(services, "waste") == "waste-latest"

    link.unlink()
    report = sync_folders([papers], services.index)
    assert [(r.doc_id, r.kept) for r in report.removed] == [("waste-latest", False)]
    assert set(_documents(services)) == {"housing"}
    _assert_consistent(services)


def test_remove_by_path_removes_the_paper_recorded_there(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    papers = tmp_path / "papers"
    _paper(papers / "minutes.pdf", "housing")
    _paper(papers / "b" / "minutes.pdf", "transport")
    services = make_services(settings)
    assert sync_folders([papers], services.index).ok
    assert set(_documents(services)) == {"minutes", "b-minutes"}

    code = main(["--data-dir", str(settings.data_dir), "remove", str(papers / "b" / "minutes.pdf")])

    assert code == 0
    assert set(_documents(services)) == {"minutes"}  # not the top-level paper of that name
