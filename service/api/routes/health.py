"""Operations: `/healthz` (liveness), `/readyz` (readiness) and `/metrics` (Prometheus)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from service.access.roles import Caller
from service.api.access import CallerDep, optional_caller
from service.api.deps import ServicesDep
from service.api.schemas import Health
from service.health import HealthChecks
from service.observability.metrics import CONTENT_TYPE, MetricsDep

router = APIRouter(tags=["health"])

OptionalCallerDep = Annotated[Caller | None, Depends(optional_caller)]
NOT_READY = "not ready"


class Readiness(BaseModel):
    status: str = Field(description='"ready", or "not ready" (with 503)')
    checks: dict[str, str] = Field(
        description='Each part ("chroma", "index", "llm" when answers use one): "ok", or'
        ' "not ready"; an admin key is told why.'
    )


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(
    request: Request, response: Response, services: ServicesDep, caller: OptionalCallerDep
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


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(request: Request, response: Response, caller: OptionalCallerDep) -> Readiness:
    """ "ready" when Chroma answers, papers are indexed with their keyword index loaded, and,
    when answers use an LLM, its endpoint can be reached; else 503 "not ready" naming the
    part. For anyone; why a part is not ready (addresses, errors), for an admin alone."""
    health: HealthChecks = request.app.state.health
    checks = health.ready()
    if not checks.ok:
        response.status_code = 503
    admin = caller is not None and caller.is_admin
    return Readiness(
        status="ready" if checks.ok else NOT_READY,
        checks={
            part: state if admin or state == "ok" else NOT_READY
            for part, state in checks.parts.items()
        },
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}}, 403: {"description": "not an admin key"}},
)
def metrics(metrics: MetricsDep, caller: CallerDep) -> Response:
    """Prometheus metrics, for an admin key (the local demo needs none): requests and their
    latency by route template and status, retrieval and answer timings, work-slot
    refusals, and the index's papers, pages, passages and last ingest."""
    if not caller.is_admin:
        raise HTTPException(403, "the metrics are for an admin key")
    return Response(metrics.exposition(), media_type=CONTENT_TYPE)
