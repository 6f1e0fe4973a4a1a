"""The FastAPI application, built by `create_app(settings, …)` from real components."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from .container import Services, build_services
from .conversations import ConversationStore
from .errors import UpstreamError, UpstreamTimeout
from .followup import LLMRewriter, RuleRewriter
from .routes import ask, documents, health, search, stream, summaries, themes, web
from .routes.web import WEB_DIR
from .settings import Settings
from .summaries.store import SummaryStore


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
    )
    app.state.services = services
    # The app's own data folder, not the services': tests share a read-only corpus index.
    app.state.conversations = ConversationStore(settings.data_dir / "conversations.sqlite3")
    app.state.rewriter = (
        LLMRewriter(services.llm, settings.prompts_dir) if services.llm else RuleRewriter()
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
        )

    @app.exception_handler(UpstreamTimeout)
    async def _timeout(_: Request, exc: UpstreamTimeout) -> JSONResponse:
        return JSONResponse(status_code=504, content={"detail": str(exc)})

    @app.exception_handler(UpstreamError)
    async def _upstream(_: Request, exc: UpstreamError) -> JSONResponse:
        return JSONResponse(status_code=502, content={"detail": str(exc)})

    for module in (search, ask, stream, documents, health, web, themes):
        app.include_router(module.router)
    app.include_router(summaries.router)
    app.state.summaries = SummaryStore.in_data_dir(settings.data_dir)
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    return app
