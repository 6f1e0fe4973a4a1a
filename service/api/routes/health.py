from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from service.access.roles import Caller
from service.api.access import optional_caller
from service.api.deps import ServicesDep
from service.api.schemas import Health
from service.health import HealthChecks

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(
    request: Request,
    response: Response,
    services: ServicesDep,
    caller: Annotated[Caller | None, Depends(optional_caller)],
) -> Health:
    """ "ok" when the index answers and, when answers use an LLM, its endpoint can be reached;
    else 503 "degraded" saying which part is not. For anyone; how many papers and passages,
    for an admin alone (counts would tell others that papers they may not read exist)."""
    health: HealthChecks = request.app.state.health
    checks = health.run()
    if not checks.ok:
        response.status_code = 503
    admin = caller is not None and caller.is_admin
    return Health(
        status="ok" if checks.ok else "degraded",
        checks=checks.parts,
        documents=len(services.index.documents()) if admin else None,
        chunks=checks.chunks if admin else None,
        answerer=services.answerer.mode,
    )
