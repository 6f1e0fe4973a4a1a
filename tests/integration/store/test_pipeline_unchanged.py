"""An unchanged re-ingest reads no paper again: not its file (its hash says unchanged), nor its
stored pages (whether it marks itself not for the public is kept by version); an edited
sidecar still takes effect."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import MakeServices
from papers import make_pdf
from test_pipeline import assert_consistent

from ingest.pipeline import Outcome, ingest_paths
from service.settings import Settings


def test_an_unchanged_paper_keeps_its_access_from_the_kept_verdict(
    tmp_path: Path, settings: Settings, make_services: MakeServices
) -> None:
    papers = tmp_path / "papers"
    papers.mkdir()
    make_pdf(papers / "disposal.pdf", "property", mark="NOT FOR PUBLICATION")
    make_pdf(papers / "libraries.pdf", "libraries")
    services = make_services(settings)
    index = services.index
    assert ingest_paths([papers], index).ok
    versions = {doc.meta.doc_id: doc.version for doc in index.documents()}
    verdicts_path = settings.data_dir / "restriction-verdicts.json"
    assert not verdicts_path.exists()  # nothing was unchanged yet: nothing read again

    again = ingest_paths([papers], index)
    assert [f.outcome for f in again.files] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
    kept = json.loads(verdicts_path.read_text(encoding="utf-8"))
    assert kept == {versions["disposal"]: True, versions["libraries"]: False}

    # The kept verdict is what decides, not the pages read again: a verdict said otherwise
    # (as no run would) restates the paper's access, embedding nothing.
    generation = index.manifest.generation()
    verdicts_path.write_text(json.dumps({**kept, versions["disposal"]: False}), encoding="utf-8")
    restated = ingest_paths([papers], index)
    assert restated.files[0].outcome is Outcome.UPDATED
    assert restated.files[0].access_note == "access exempt → public, not embedded again"
    assert restated.embedded_chunks == 0
    # Without kept verdicts the pages are read again, and the paper is held again.
    verdicts_path.unlink()
    held = ingest_paths([papers], index)
    assert held.files[0].access_note == "access public → exempt, not embedded again"
    assert index.document("disposal").meta.access == "exempt"  # type: ignore[union-attr]
    assert index.manifest.generation() == generation + 2
    assert_consistent(settings, services)

    # An edited sidecar still wins over the paper's marks.
    (papers / "metadata.json").write_text(json.dumps({"disposal.pdf": {"access": "public"}}))
    edited = ingest_paths([papers], index)
    assert edited.files[0].access_note == "access exempt → public, not embedded again"
