"""FastAPI dependencies, all of them: the request's view of the app's components (built once
by `service.container`, kept on `app.state`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from service.container import AppStores, Services
from service.conversations import ConversationStore, Turn, UnknownConversation
from service.query.followup import FollowUpRewriter
from service.summaries import Summariser
from service.summaries.store import SummaryStore
from service.themes.scan import ThemeScanner


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_stores(request: Request) -> AppStores:
    stores: AppStores = request.app.state.stores
    return stores


ServicesDep = Annotated[Services, Depends(get_services)]
StoresDep = Annotated[AppStores, Depends(get_stores)]


def get_conversations(stores: StoresDep) -> ConversationStore:
    return stores.conversations


def get_rewriter(stores: StoresDep) -> FollowUpRewriter:
    return stores.rewriter


def get_summary_store(stores: StoresDep) -> SummaryStore:
    return stores.summaries


def get_theme_scanner(services: ServicesDep) -> ThemeScanner:
    return services.themes


def get_summariser(services: ServicesDep) -> Summariser:
    return services.summariser


ConversationsDep = Annotated[ConversationStore, Depends(get_conversations)]
RewriterDep = Annotated[FollowUpRewriter, Depends(get_rewriter)]
SummaryStoreDep = Annotated[SummaryStore, Depends(get_summary_store)]
ScannerDep = Annotated[ThemeScanner, Depends(get_theme_scanner)]
SummariserDep = Annotated[Summariser, Depends(get_summariser)]


class WorkSlots:
    """Places for requests doing CPU-bound work (a search, an answer, a theme scan) at once.

    On a small machine more at once only makes each slower; past the slots a request waits up
    to `wait_seconds` for one, then gets 503 with Retry-After instead of queueing for minutes.
    """

    def __init__(self, slots: int, wait_seconds: float) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self.wait_seconds = wait_seconds

    def acquire(self) -> bool:
        return self._slots.acquire(timeout=self.wait_seconds)

    def release(self) -> None:
        self._slots.release()


def work_slot(request: Request) -> Iterator[None]:
    """Hold one of the app's work slots for the request; 503 when none comes free in time."""
    slots: WorkSlots = request.app.state.work_slots
    if not slots.acquire():
        raise HTTPException(
            503,
            "The service is busy answering others: try again in a few seconds.",
            headers={"Retry-After": str(max(1, round(slots.wait_seconds)))},
        )
    try:
        yield
    finally:
        slots.release()


WorkSlot = Depends(work_slot)


def open_or_404(store: ConversationStore, conversation_id: str | None) -> tuple[str, list[Turn]]:
    """The conversation's id and turns (a new one when no id is given); 404 for an unknown id."""
    try:
        return store.open(conversation_id)
    except UnknownConversation:
        raise HTTPException(
            404, f"No conversation '{conversation_id}'. Omit conversation_id to start one."
        ) from None
