"""A paper's access level: the sidecar's when it gives one, else held at `held_access` when
the paper marks itself not for the public, else public; a sidecar edit takes effect on the
next sync without embedding the paper again. Real model, real Chroma, real PDFs."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import MakeServices
from papers import make_pdf

from ingest.pipeline import Outcome
from ingest.sync import sync_folders
from service.settings import Settings


def _access(services: object, doc_id: str) -> str:
    stored = services.index.document(doc_id)  # type: ignore[attr-defined]
    assert stored is not None
    return str(stored.meta.access)


def _folder_with_a_held_paper(tmp_path: Path) -> Path:
    """A folder holding `disposal.pdf`, marked NOT FOR PUBLICATION on its first page."""
    papers = tmp_path / "papers"
    papers.mkdir()
    make_pdf(papers / "disposal.pdf", "property", mark="NOT FOR PUBLICATION")
    return papers


def test_a_marked_paper_is_held_and_the_report_says_why(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    papers = _folder_with_a_held_paper(tmp_path)
    make_pdf(papers / "libraries.pdf", "libraries")
    services = make_services(settings)

    report = sync_folders([papers], services.index)

    notes = {Path(f.path).name: f.access_note for f in report.files}
    assert notes == {
        "disposal.pdf": "held as exempt: 'NOT FOR PUBLICATION' (page 1)",
        "libraries.pdf": None,
    }
    assert (_access(services, "disposal"), _access(services, "libraries")) == ("exempt", "public")


def test_the_sidecar_wins_and_its_edits_need_no_embedding(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    papers = _folder_with_a_held_paper(tmp_path)
    sidecar = papers / "metadata.json"
    sidecar.write_text(json.dumps({"disposal.pdf": {"access": "public"}}))
    services = make_services(settings)
    sync_folders([papers], services.index)
    assert _access(services, "disposal") == "public"
    vectors = sorted(services.index.chroma_ids())

    sidecar.write_text(json.dumps({"disposal.pdf": {"access": "restricted"}}))
    edited = sync_folders([papers], services.index)
    assert [(f.outcome, f.chunks, f.access_note) for f in edited.files] == [
        (Outcome.UPDATED, 0, "access public → restricted, not embedded again")
    ]
    assert _access(services, "disposal") == "restricted"
    assert sorted(services.index.chroma_ids()) == vectors

    sidecar.write_text(json.dumps({}))  # no word from the sidecar: the paper's mark holds it
    sync_folders([papers], services.index)
    assert _access(services, "disposal") == "exempt"
    again = sync_folders([papers], services.index)
    assert [f.outcome for f in again.files] == [Outcome.UNCHANGED]
