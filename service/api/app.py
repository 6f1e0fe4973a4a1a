"""The FastAPI application, built by `create_app(settings, …)` from real components;
`serving_app` is the same app as `boardpapers serve` runs it, in each worker."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from ingest.store.disk_full import DataDiskFull
from service.api.access import AccessGuard
from service.api.body_limit import BodyLimit
from service.api.openapi import with_key_scheme
from service.api.routes import (
    admin,
    ask,
    docs,
    documents,
    health,
    search,
    stream,
    summaries,
    themes,
    web,
)
from service.api.routes.web import WEB_DIR
from service.container import Services, build_app_stores, build_services
from service.health import HealthChecks
from service.input_text import TextLimits
from service.llm.errors import UpstreamError, UpstreamTimeout
from service.observability.metrics import Metrics
from service.observability.requests import RequestObserver
from service.observability.slots import CountedWorkSlots
from service.settings import Settings

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    embeddings: Embeddings | None = None,
    llm: BaseChatModel | None = None,
    chroma_client: Any | None = None,
) -> FastAPI:
    settings = settings or Settings()
    services = services or build_services(
        settings, embeddings=embeddings, llm=llm, chroma_client=chroma_client
    )
    app = FastAPI(
        title="boardpapers",
        summary="Cited answers and passages from local-government board papers.",
        version="0.1.0",
        lifespan=_few_threads(settings.work_slots),
        docs_url=None,  # served from the package by routes/docs.py, not from a CDN
        redoc_url=None,
    )
    app.openapi = with_key_scheme(app)  # type: ignore[method-assign]
    app.state.services = services
    app.state.health = HealthChecks(services)
    app.state.metrics = metrics = Metrics(services.index)
    app.state.work_slots = CountedWorkSlots(
        settings.work_slots, settings.work_wait_seconds, metrics.work_slot_rejections
    )
    app.state.text_limits = TextLimits(settings.max_question_chars, settings.max_theme_chars)
    # The app's own data folder, not the services': tests share a read-only corpus index.
    app.state.stores = build_app_stores(settings, services)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_request_bytes,
        read_timeout=settings.read_timeout_seconds,
    )
    # The last added is outermost: a request without a usable key is turned away before its
    # body is read, and CORS answers a browser's preflight (which carries no key) first.
    app.add_middleware(AccessGuard)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization"],
            # so a widget on another site can say when to retry after a 429 or 503
            expose_headers=["Retry-After"],
        )
    # Outermost of all, so every request is measured, those turned away at the door too.
    app.add_middleware(RequestObserver, metrics=metrics)

    @app.exception_handler(UpstreamTimeout)
    async def _timeout(_: Request, exc: UpstreamTimeout) -> JSONResponse:
        return JSONResponse(status_code=504, content={"detail": str(exc)})

    @app.exception_handler(UpstreamError)
    async def _upstream(_: Request, exc: UpstreamError) -> JSONResponse:
        return JSONResponse(status_code=502, content={"detail": str(exc)})

    @app.exception_handler(DataDiskFull)
    async def _disk_full(_: Request, exc: DataDiskFull) -> JSONResponse:
        # A write the request needed (searching and answering need none) found no room.
        return JSONResponse(status_code=507, content={"detail": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI echoes each error's input; a lone surrogate in it cannot be sent as UTF-8,
        # so inputs are returned escaped where they would not encode.
        return JSONResponse(status_code=422, content={"detail": _encodable(exc.errors())})

    for module in (search, ask, stream, documents, health, web, themes, docs):
        app.include_router(module.router)
    app.include_router(summaries.router)
    app.include_router(admin.router)
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    return app


def serving_app(settings: Settings | None = None) -> FastAPI:
    """The app as `boardpapers serve` runs it: the model and the keyword index loaded before
    the first request, so the first officer to ask does not wait seconds for them. The model
    reads in numpy from the start and on ONNX Runtime (`serve_embedding_threads`) once that is
    built in the background (`WarmingEmbeddings`). The theme scan's paragraph index (seconds on an
    archive: every paragraph read word by word) is built in the background once the service
    answers; a theme scan asked before it is done waits for it. With `--workers N` uvicorn
    calls this in each worker with no argument: the settings come from the environment, as the
    command's did."""
    from tqdm import tqdm

    from service.embedding.warming import WarmingEmbeddings

    settings = settings or Settings()
    # The model's (hidden) progress bars would take a lock shared between processes, a named
    # semaphore that, in a worker, is reported as leaked when the server stops.
    tqdm.set_lock(threading.RLock())
    embeddings = WarmingEmbeddings(
        settings.embedding_batch_size,
        settings.serve_embedding_threads,
        int8=settings.serve_embedding_int8,
    )
    app = create_app(settings, embeddings=embeddings)
    log.info("Warming up (model, keyword index)…")
    services: Services = app.state.services
    services.retriever.search("warm up", k=1)
    embeddings.load_in_background()
    threading.Thread(target=services.themes.corpus, name="theme-index", daemon=True).start()
    return app


def _few_threads(work_slots: int) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan that keeps the thread pool the routes run in to the work slots and four more
    (anyio's default is 40). Each thread that has answered keeps ~5 MB of torch's and SQLite's
    for as long as it lives; requests wait for a slot without a thread (`deps.WorkSlots`), so
    few threads are enough, and the answers stay on them."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = work_slots + 4
        yield

    return lifespan


def _encodable(value: Any) -> Any:
    """`value` made JSON-able, with any string UTF-8 cannot encode escaped."""
    value = jsonable_encoder(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_encodable(each) for each in value]
    if isinstance(value, dict):
        return {key: _encodable(each) for key, each in value.items()}
    return value
