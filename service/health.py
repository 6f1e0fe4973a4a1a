"""Whether the parts the service depends on answer: the index (Chroma, embedded or a server)
and, when answers use one, the LLM's endpoint.

The LLM is asked for nothing: its endpoint is only reached (any HTTP reply will do, even 401),
so a health probe costs no tokens. Results are kept a few seconds, so a load balancer polling
every second costs one check, not one per poll.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx

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


class HealthChecks:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = threading.Lock()
        self._last: tuple[float, Checks] | None = None

    def run(self) -> Checks:
        with self._lock:
            if self._last is not None and time.monotonic() - self._last[0] < KEEP_SECONDS:
                return self._last[1]
            checks = self._checked()
            self._last = (time.monotonic(), checks)
            return checks

    def _checked(self) -> Checks:
        parts: dict[str, str] = {}
        chunks: int | None = None
        try:
            chunks = self.services.index.chunk_count()
            parts["index"] = "ok"
        except Exception as error:  # any failure of the store is what this reports
            parts["index"] = f"the index does not answer ({type(error).__name__}: {error})"
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
