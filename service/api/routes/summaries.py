"""A paper's summary and its structured recommendations, decisions and agenda."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import PlainTextResponse, Response

from ingest.reading.extraction import Decision, Extraction
from service.api.access import CallerDep, ReadDep, readable_or_404
from service.api.deps import ServicesDep, SummariserDep, SummaryStoreDep
from service.summaries.batch import stored_or_new
from service.summaries.render import summary_markdown

router = APIRouter(tags=["summaries"])


@router.get("/documents/{doc_id}/summary", response_model=None)
def get_summary(
    doc_id: str,
    services: ServicesDep,
    summariser: SummariserDep,
    store: SummaryStoreDep,
    caller: CallerDep,
    read: ReadDep,
    format: str = "json",
) -> dict[str, Any] | Response:
    """The paper's summary (`?format=markdown` for Markdown), made once per document version:
    extractive, or through the LLM when one is configured."""
    read.asked = doc_id
    readable_or_404(services, caller, doc_id)
    read.saw(doc_id)
    try:
        summary, _ = stored_or_new(doc_id, services.index, summariser, store)
    except KeyError:  # removed while we read it
        raise HTTPException(404, f"No document '{doc_id}'. GET /documents lists them.") from None
    if format == "markdown":
        return PlainTextResponse(summary_markdown(summary), media_type="text/markdown")
    return summary.to_dict()


@router.get("/documents/{doc_id}/recommendations")
def get_recommendations(
    doc_id: str, services: ServicesDep, caller: CallerDep, read: ReadDep
) -> dict[str, Any]:
    """What the paper recommends and records as decided, verbatim with page and paragraph,
    and a pack's agenda items with their page ranges."""
    read.asked = doc_id
    stored = readable_or_404(services, caller, doc_id)
    read.saw(doc_id)
    extraction_json = services.index.manifest.extraction(doc_id)
    if extraction_json is None:
        raise HTTPException(
            409,
            f"'{doc_id}' was ingested before recommendations were extracted: run "
            "`boardpapers sync` on its folder (unchanged files are not re-embedded).",
        )
    extraction = Extraction.from_json(extraction_json)
    return {
        "doc_id": doc_id,
        "version": stored.version,
        "recommendations": [_decision(d) for d in extraction.recommendations],
        "decisions": [_decision(d) for d in extraction.decisions if d.kind != "recommendation"],
        "agenda": [vars(item) for item in extraction.agenda],
    }


def _decision(decision: Decision) -> dict[str, Any]:
    return {
        "kind": decision.kind,
        "text": decision.text,
        "full_text": decision.full_text(),
        "page": decision.page,
        "page_end": decision.page_end,
        "paragraph": decision.paragraph,
        "section": decision.section,
        "items": [vars(item) for item in decision.items],
    }
