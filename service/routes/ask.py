from __future__ import annotations

from fastapi import APIRouter

from ..deps import ServicesDep
from ..schemas import AskRequest, AskResponse

router = APIRouter(tags=["answers"])


@router.post("/ask", response_model=AskResponse)
def ask(request: AskRequest, services: ServicesDep) -> AskResponse:
    """An answer whose every statement carries [n], with the numbered verbatim quotes; or
    `answered: false` when the papers do not cover the question."""
    result = services.ask(request.question, k=request.k, filters=request.filters.to_search_filters())
    return AskResponse.of(result)
