"""What an admin key may do over HTTP besides reading: keys, the audit log, ingest and remove.

Every route here needs the `admin` role; any other key gets 403 (these routes name no paper,
so refusing them confirms nothing). Ingest and removal take the data folder's sync lock, as
the CLI does, and answer 409 while a sync holds it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from ingest.pipeline import ingest_paths
from ingest.sync import SyncBusyError, sync_lock
from service.access.keys import UnknownKey
from service.access.roles import Caller
from service.api.access import get_caller
from service.api.deps import ServicesDep, StoresDep


def admin_only(caller: Caller = Depends(get_caller)) -> Caller:  # noqa: B008 (FastAPI idiom)
    if not caller.is_admin:
        raise HTTPException(403, "this needs an admin key")
    return caller


router = APIRouter(tags=["admin"], dependencies=[Depends(admin_only)])


class KeyRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: str
    expires_in_days: int | None = Field(None, ge=1)
    origins: list[str] = Field(default_factory=list)


class IngestRequest(BaseModel):
    paths: list[str] = Field(min_length=1, description="Files or folders on the server")


@router.get("/admin/keys")
def list_keys(stores: StoresDep) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [key.listing(now) for key in stores.gate.keys.all_keys()]


@router.post("/admin/keys", status_code=201)
def create_key(request: KeyRequest, stores: StoresDep) -> dict[str, Any]:
    """A new key; its secret is in this reply only."""
    if request.role not in stores.gate.roles:
        raise HTTPException(422, f"No role '{request.role}'. Roles: {', '.join(stores.gate.roles)}")
    expires = (
        datetime.now(UTC) + timedelta(days=request.expires_in_days)
        if request.expires_in_days
        else None
    )
    key, secret = stores.gate.keys.create(
        request.name, request.role, expires_at=expires, origins=tuple(request.origins)
    )
    return {"id": key.id, "name": key.name, "role": key.role, "key": secret}


@router.delete("/admin/keys/{key}")
def revoke_key(key: str, stores: StoresDep) -> dict[str, Any]:
    try:
        revoked = stores.gate.keys.revoke(key)
    except UnknownKey:
        raise HTTPException(404, f"No active key '{key}'. GET /admin/keys lists them.") from None
    return {"revoked": [k.id for k in revoked]}


@router.get("/admin/audit")
def audit(stores: StoresDep, since: datetime | None = None, key: str | None = None) -> list[Any]:
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return [row.as_dict() for row in stores.audit.rows(since, key)]


@router.post("/admin/ingest")
def ingest(request: IngestRequest, services: ServicesDep) -> dict[str, Any]:
    """Ingest files or folders on the server, as `boardpapers ingest` does."""
    missing = [p for p in request.paths if not Path(p).exists()]
    if missing:
        raise HTTPException(422, f"Not found on the server: {', '.join(missing)}")
    try:
        with sync_lock(services.settings.data_dir, database_url=services.settings.database_url):
            report = ingest_paths([Path(p) for p in request.paths], services.index)
    except SyncBusyError as busy:
        raise HTTPException(409, f"{busy}") from None
    return {
        "files": [
            {"path": f.path, "outcome": f.outcome.value, "doc_id": f.doc_id, "chunks": f.chunks,
             "reason": f.reason, "access_note": f.access_note}
            for f in report.files
        ]
    }  # fmt: skip


@router.delete("/documents/{doc_id}")
def remove(doc_id: str, services: ServicesDep) -> dict[str, str]:
    """Remove a paper from the index (its file stays where it is)."""
    try:
        with sync_lock(services.settings.data_dir, database_url=services.settings.database_url):
            removed = services.index.remove_document(doc_id)
            services.index.refresh_keyword_index()
    except SyncBusyError as busy:
        raise HTTPException(409, f"{busy}") from None
    if not removed:
        raise HTTPException(404, f"No document '{doc_id}'. GET /documents lists them.")
    return {"removed": doc_id}
