from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import ServicesDep
from service.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(services: ServicesDep) -> Health:
    return Health(
        status="ok",
        documents=len(services.index.documents()),
        chunks=services.index.chunk_count(),
        answerer=services.answerer.mode,
    )
