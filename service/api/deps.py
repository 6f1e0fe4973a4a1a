"""FastAPI dependencies, all of them: the request's view of the app's components (built once
by `service.container`, kept on `app.state`)."""

from __future__ import annotations

import asyncio
import ctypes
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError

from ingest.store.disk_full import DataDiskFull
from service.container import AppStores, Services
from service.conversations import ConversationStore, Turn, UnknownConversation
from service.input_text import TextLimits
from service.query.followup import FollowUpRewriter
from service.summaries import Summariser
from service.summaries.store import SummaryStore
from service.themes.scan import ThemeScanner

log = logging.getLogger(__name__)


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


def get_text_limits(request: Request) -> TextLimits:
    limits: TextLimits = request.app.state.text_limits
    return limits


ConversationsDep = Annotated[ConversationStore, Depends(get_conversations)]
RewriterDep = Annotated[FollowUpRewriter, Depends(get_rewriter)]
SummaryStoreDep = Annotated[SummaryStore, Depends(get_summary_store)]
ScannerDep = Annotated[ThemeScanner, Depends(get_theme_scanner)]
SummariserDep = Annotated[Summariser, Depends(get_summariser)]
TextLimitsDep = Annotated[TextLimits, Depends(get_text_limits)]


def refuse_if_too_long(limits: TextLimits, what: str, text: str) -> None:
    """422, as for any invalid field, when the `what` ("question", "theme") is over its limit.

    Checked in the route, not the schema: the limits are the app's settings."""
    reason = limits.overrun(what, text)
    if reason is not None:
        error = {"type": "string_too_long", "loc": ("body", what), "msg": reason}
        raise RequestValidationError([error])


def _libc_malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to ask
        return None
    return trim


_malloc_trim = _libc_malloc_trim()
_TRIM_AFTER_IDLE_SECONDS = 2.0


class WorkSlots:
    """Places for requests doing CPU-bound work (a search, an answer, a theme scan) at once.

    On a small machine more at once only makes each slower; past the slots a request waits up
    to `wait_seconds` for one, then gets 503 with Retry-After instead of queueing for minutes.

    Memory comes back after a burst (issue 19; `python -m bench.load` measures it):
    - a request waits in the event loop, not in a thread of the pool: each thread that has run
      the model keeps ~5 MB of its own (torch's, SQLite's) while it lives, and 32 requests
      waiting in 32 threads, each taking its turn, grew the server by 300 MB for good; the
      pool is kept to the slots and four more (`app._few_threads`);
    - once every slot has been free for `_TRIM_AFTER_IDLE_SECONDS`, glibc is asked to give the
      heap freed by the burst back to the system (it keeps it in its per-thread arenas).
    """

    def __init__(self, slots: int, wait_seconds: float) -> None:
        self.slots = slots
        self.wait_seconds = wait_seconds
        self._in_loop: _LoopSlots | None = None

    async def take(self) -> _LoopSlots | None:
        """A slot (to give back to what is returned), or None when none came free in time."""
        loop = asyncio.get_running_loop()
        if self._in_loop is None or self._in_loop.loop is not loop:  # a test client's new loop
            self._in_loop = _LoopSlots(loop, asyncio.Semaphore(self.slots))
        taken = self._in_loop
        try:
            async with asyncio.timeout(self.wait_seconds):  # a free slot is taken at once
                await taken.free.acquire()
        except TimeoutError:
            return None
        taken.busy += 1
        if taken.trim is not None:
            taken.trim.cancel()
            taken.trim = None
        return taken


@dataclass
class _LoopSlots:
    """The slots as one event loop sees them (an asyncio semaphore serves one loop)."""

    loop: asyncio.AbstractEventLoop
    free: asyncio.Semaphore
    busy: int = 0
    trim: asyncio.TimerHandle | None = None

    def give_back(self) -> None:
        self.free.release()
        self.busy -= 1
        if self.busy == 0 and _malloc_trim is not None:
            self.trim = self.loop.call_later(_TRIM_AFTER_IDLE_SECONDS, self._return_memory)

    def _return_memory(self) -> None:
        self.trim = None
        if _malloc_trim is not None:
            self.loop.run_in_executor(None, _malloc_trim, 0)  # tens of ms: not in the loop


async def work_slot(request: Request) -> AsyncIterator[None]:
    """Hold one of the app's work slots for the request; 503 when none comes free in time."""
    slots: WorkSlots = request.app.state.work_slots
    taken = await slots.take()
    if taken is None:
        raise HTTPException(
            503,
            "The service is busy answering others: try again in a few seconds.",
            headers={"Retry-After": str(max(1, round(slots.wait_seconds)))},
        )
    try:
        yield
    finally:
        taken.give_back()


WorkSlot = Depends(work_slot)
# A streamed answer is worked on while its events are sent: the slot is held until the last
# is sent or the client has gone, not only while the route function runs.
StreamWorkSlot = Depends(work_slot, scope="request")


def open_or_404(
    store: ConversationStore, conversation_id: str | None, owner: str
) -> tuple[str | None, list[Turn]]:
    """The owner's conversation's id and turns (a new one when no id is given); 404 for an
    unknown id or another owner's. While the data folder's disk is full a new conversation
    cannot be kept: no id, and the question is answered all the same."""
    try:
        return store.open(conversation_id, owner)
    except UnknownConversation:
        raise HTTPException(
            404, f"No conversation '{conversation_id}'. Omit conversation_id to start one."
        ) from None
    except DataDiskFull:
        if conversation_id is not None:
            raise
        log.warning("%s; a new conversation is not kept", DataDiskFull())
        return None, []


def keep_turn(store: ConversationStore, conversation_id: str | None, turn: Turn) -> None:
    """Add the turn to the conversation; while the disk is full, log that it is not kept (the
    answer is sent all the same)."""
    if conversation_id is None:
        return
    try:
        store.add_turn(conversation_id, turn)
    except DataDiskFull:
        log.warning("%s; a turn of conversation %s is not kept", DataDiskFull(), conversation_id)
