from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from service.access.roles import Caller
from service.api.access import optional_caller
from service.api.deps import ServicesDep
from service.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(
    services: ServicesDep, caller: Annotated[Caller | None, Depends(optional_caller)]
) -> Health:
    """Up or not, for anyone; how many papers and passages, for an admin alone (counts would
    tell others that papers they may not read exist)."""
    admin = caller is not None and caller.is_admin
    return Health(
        status="ok",
        documents=len(services.index.documents()) if admin else None,
        chunks=services.index.chunk_count() if admin else None,
        answerer=services.answerer.mode,
    )
