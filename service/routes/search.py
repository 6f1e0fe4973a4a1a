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
    return SearchResponse(results=[SearchResult.of(hit) for hit in hits])
