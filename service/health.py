"""Whether the parts the service depends on answer.

- `run` (`/healthz`): the index (Chroma, embedded or a server) and, when answers use one, the
  LLM's endpoint.
- `ready` (`/readyz`, for a load balancer or an orchestrator's readiness probe): Chroma answers,
  the shared database does when one is set, papers are indexed and the keyword index is loaded
  for what is live now (loaded here when a sync has changed it, as the next search would), and
  the LLM's endpoint can be reached when answers use one.

The LLM is asked for nothing: its endpoint is only reached (any HTTP reply will do, even 401),
so a health probe costs no tokens. Results are kept a few seconds, so a load balancer polling
every second costs one check, not one per poll.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from ingest.store.postgres import shown_url
from service.container import Services

CHECK_TIMEOUT_SECONDS = 2.0
KEEP_SECONDS = 5.0
# Where each provider answers a cheap GET, and its usual address when none is set.
_PROBES = {"openai": ("https://api.openai.com/v1", "/models"),
           "ollama": ("http://localhost:11434", "/api/tags")}  # fmt: skip


@dataclass(frozen=True)
class Checks:
    """Each part's state, "ok" or what is wrong with it."""

    parts: dict[str, str]
    chunks: int | None  # the index's passages, when it answered

    @property
    def ok(self) -> bool:
        return all(state == "ok" for state in self.parts.values())


class _Kept:
    """A check's last result, kept `KEEP_SECONDS`; one check at a time."""

    def __init__(self, check: Callable[[], Checks]) -> None:
        self.check = check
        self._lock = threading.Lock()
        self._last: tuple[float, Checks] | None = None

    def get(self) -> Checks:
        with self._lock:
            if self._last is not None and time.monotonic() - self._last[0] < KEEP_SECONDS:
                return self._last[1]
            checks = self.check()
            self._last = (time.monotonic(), checks)
            return checks


class HealthChecks:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._health = _Kept(self._checked)
        self._readiness = _Kept(self._ready)

    def run(self) -> Checks:
        """Liveness: the index answers, and the LLM's endpoint when answers use one."""
        return self._health.get()

    def ready(self) -> Checks:
        """Readiness: Chroma answers, papers are indexed with their keyword index loaded, and
        the LLM's endpoint can be reached when answers use one."""
        return self._readiness.get()

    def _ready(self) -> Checks:
        chunks, fault = self._counted()
        chroma = f"Chroma ({self._chroma_place()}) does not answer ({fault})" if fault else "ok"
        parts = {"chroma": chroma}
        if self.services.settings.database_url:
            parts["database"] = self._database_answers()
        parts["index"] = self._index_loaded()
        return self._with_llm(parts, chunks)

    def _database_answers(self) -> str:
        try:
            self.services.index.manifest.generation()
        except Exception as error:  # any failure to read it is what this reports
            url = shown_url(self.services.settings.database_url or "")
            return f"the database at {url} does not answer ({_fault(error)})"
        return "ok"

    def _chroma_place(self) -> str:
        settings = self.services.settings
        if settings.chroma_mode == "server":
            return f"the server at {settings.chroma_host}:{settings.chroma_port}"
        return f"embedded, in {settings.chroma_path}"

    def _index_loaded(self) -> str:
        index = self.services.index
        try:
            if not index.documents():
                return "no papers are indexed: run `boardpapers ingest PATH` or `sync DIR`"
            if not len(index.keyword_index()):
                return "the keyword index holds no passages: run `boardpapers sync DIR`"
        except Exception as error:  # a manifest or keyword index that cannot be read
            return f"the index cannot be read ({_fault(error)})"
        return "ok"

    def _checked(self) -> Checks:
        chunks, fault = self._counted()
        parts = {"index": f"the index does not answer ({fault})" if fault else "ok"}
        return self._with_llm(parts, chunks)

    def _counted(self) -> tuple[int | None, str | None]:
        """The store's chunk count, or what went wrong asking for it."""
        try:
            return self.services.index.chunk_count(), None
        except Exception as error:  # any failure of the store is what this reports
            return None, _fault(error)

    def _with_llm(self, parts: dict[str, str], chunks: int | None) -> Checks:
        if self.services.llm is not None:
            parts["llm"] = self._llm_reached()
        return Checks(parts, chunks)

    def _llm_reached(self) -> str:
        settings = self.services.settings
        default, path = _PROBES[settings.llm_provider]
        url = (settings.llm_base_url or default).rstrip("/") + path
        try:
            httpx.get(url, timeout=CHECK_TIMEOUT_SECONDS)
        except httpx.HTTPError as error:
            return f"the LLM at {url} cannot be reached ({type(error).__name__})"
        return "ok"


def _fault(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
