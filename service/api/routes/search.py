from __future__ import annotations

from fastapi import APIRouter

from ingest.models import Chunk
from service.api.access import CallerDep, ReadDep, filters_asked
from service.api.deps import ServicesDep, WorkSlot
from service.api.schemas import SearchRequest, SearchResponse, SearchResult
from service.observability.metrics import MetricsDep
from service.retrieval.hits import Hit

router = APIRouter(tags=["search"])


@router.post("/search", response_model=SearchResponse, dependencies=[WorkSlot])
def search(
    request: SearchRequest,
    services: ServicesDep,
    caller: CallerDep,
    read: ReadDep,
    metrics: MetricsDep,
) -> SearchResponse:
    """The passages that best match the query, best first, each with its document and page."""
    filters = request.filters.to_search_filters()
    read.asked, read.filters = request.query, filters_asked(filters)
    with metrics.retrieval("/search"):
        hits = services.retriever.search(request.query, k=request.k, filters=caller.narrow(filters))
    read.saw_chunks(chunk for hit in hits for chunk in hit.chunks)
    manifest = services.index.manifest
    n = request.neighbours

    shown = {chunk.chunk_id for hit in hits for chunk in hit.chunks}

    def around(hit: Hit) -> list[Chunk] | None:
        """The run's neighbours, less any chunk shown in a result (its own or another)."""
        if not n:
            return None
        chunks = hit.chunks
        near = manifest.neighbours(chunks[0], n, 0) + manifest.neighbours(chunks[-1], 0, n)
        return [chunk for chunk in near if chunk.chunk_id not in shown]

    return SearchResponse(results=[SearchResult.of(hit, around(hit)) for hit in hits])
