from __future__ import annotations

from fastapi import APIRouter

from ..deps import ServicesDep
from ..schemas import SearchRequest, SearchResponse, SearchResult

router = APIRouter(tags=["search"])


@router.post("/search", response_model=SearchResponse)
def search(request: SearchRequest, services: ServicesDep) -> SearchResponse:
    """The passages that best match the query, best first, each with its document and page."""
    hits = services.retriever.search(
        request.query, k=request.k, filters=request.filters.to_search_filters()
    )
    manifest = services.index.manifest
    n = request.neighbours
    return SearchResponse(
        results=[
            SearchResult.of(hit, manifest.neighbours(hit.chunk, n, n) if n else None)
            for hit in hits
        ]
    )
