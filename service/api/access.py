"""Access on every request: the key read once at the door, the caller handed to the routes,
the rate limit, and the audit row written when the response has been sent.

The routes then read only what their caller may: `caller.narrow(filters)` for both indexes,
`readable_or_404` for a document asked for by id. The page, its static files, the API docs
and the `/healthz` and `/readyz` probes need no key (counts, and why a part is not ready,
are an admin's alone); `/metrics` needs an admin key once keys exist.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from fastapi import Depends, HTTPException, Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ingest.store.manifest import StoredDocument
from service.access.audit import AuditRow, ReadRecord
from service.access.gate import NotAuthorised
from service.access.roles import Caller
from service.api.response_status import ResponseStatus
from service.container import AppStores, Services

# Paths anyone may fetch: the chat page and its files (the API docs' too), the API's docs,
# the health and readiness probes.
_OPEN_PREFIXES = ("/static/", "/docs", "/openapi.json", "/healthz", "/readyz")
# Routes that read papers (or, for an admin, keys and the log), and so are audited.
_READING_PREFIXES = ("/search", "/ask", "/themes", "/documents", "/admin")


def _is_open(path: str) -> bool:
    return path == "/" or path.startswith(_OPEN_PREFIXES)


class AccessGuard:
    """Pure ASGI middleware, so a streamed answer is audited when its last event has gone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        stores: AppStores = scope["app"].state.stores
        headers = Headers(scope=scope)
        path = scope["path"]
        try:
            caller: Caller | None = stores.gate.caller(
                headers.get("authorization"), headers.get("origin")
            )
        except NotAuthorised as refusal:
            if not _is_open(path):
                await _refuse(
                    scope, receive, send, 401, str(refusal), {"WWW-Authenticate": "Bearer"}
                )
                return
            caller = None
        if caller is not None and not _is_open(path):
            wait = stores.rate_limiter.wait_needed(caller.identity, caller.role)
            if wait:
                retry = stores.rate_limiter.retry_after(wait)
                message = f"this key's limit of requests a minute is used up; retry in {retry} s"
                await _refuse(scope, receive, send, 429, message, {"Retry-After": retry})
                return
        read = ReadRecord()
        scope.setdefault("state", {}).update(caller=caller, read=read)
        if caller is None or not path.startswith(_READING_PREFIXES):
            await self.app(scope, receive, send)
            return
        await self._audited(scope, receive, send, caller, read)

    async def _audited(
        self, scope: Scope, receive: Receive, send: Send, caller: Caller, read: ReadRecord
    ) -> None:
        stores: AppStores = scope["app"].state.stores
        started, at = time.perf_counter(), datetime.now(UTC)

        sent = ResponseStatus(send)
        try:
            await self.app(scope, receive, sent)
        finally:
            route = str(getattr(scope.get("route"), "path", scope["path"]))
            row = AuditRow(
                at=at, key_id=caller.key_id, key_name=caller.name, role=caller.role,
                method=scope["method"], route=route, asked=read.asked, filters=read.filters,
                documents={doc: sorted(pages) for doc, pages in sorted(read.documents.items())},
                status=sent.code, latency_ms=(time.perf_counter() - started) * 1000,
            )  # fmt: skip
            await anyio.to_thread.run_sync(stores.audit.append, row)


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, detail: str, headers: dict[str, str]
) -> None:
    await JSONResponse({"detail": detail}, status_code=status, headers=headers)(
        scope, receive, send
    )


def get_caller(request: Request) -> Caller:
    caller: Caller | None = getattr(request.state, "caller", None)
    if caller is None:  # only the open paths run without one, and they do not ask
        raise HTTPException(401, "this service needs an API key", {"WWW-Authenticate": "Bearer"})
    return caller


def get_read_record(request: Request) -> ReadRecord:
    read: ReadRecord = request.state.read
    return read


CallerDep = Annotated[Caller, Depends(get_caller)]
ReadDep = Annotated[ReadRecord, Depends(get_read_record)]


def readable_or_404(services: Services, caller: Caller, doc_id: str) -> StoredDocument:
    """The live document, if this caller may read it; else 404 (not 403: a paper the caller
    may not read is not confirmed to exist)."""
    stored = services.index.document(doc_id)
    if stored is None or not caller.may_read(stored.meta):
        raise HTTPException(404, f"No document '{doc_id}'. GET /documents lists them.")
    return stored


def optional_caller(request: Request) -> Caller | None:
    caller: Caller | None = getattr(request.state, "caller", None)
    return caller


def filters_asked(filters: Any) -> dict[str, Any] | None:
    """The request's filters as the audit row keeps them: only those set."""
    values = {key: value for key, value in vars(filters).items() if value}
    return values or None
