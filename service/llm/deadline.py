"""A chat model called under a deadline, with errors that say what to check.

The call runs in a worker thread with a deadline of `settings.llm_timeout`, so a hung model
cannot hang a request: a timeout raises `UpstreamTimeout` (HTTP 504), any other failure
`UpstreamError` (502), each naming the model, its URL and what to check.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from service.llm.errors import UpstreamError, UpstreamTimeout
from service.settings import Settings


class DeadlineChat:
    """`llm`'s reply text, in pieces when streamed, within `settings.llm_timeout`."""

    def __init__(self, llm: BaseChatModel, settings: Settings) -> None:
        self.llm = llm
        self.settings = settings

    def text(self, messages: list[BaseMessage], *, stream: bool = False) -> Iterator[str]:
        """The reply's text in pieces; abandoned (the worker left to finish alone) at the
        deadline, since a blocking HTTP call cannot be cancelled from outside."""
        pieces: queue.Queue[tuple[str, Any]] = queue.Queue()

        def call() -> None:
            try:
                if stream:
                    for chunk in self.llm.stream(messages):
                        pieces.put(("text", str(chunk.text)))
                else:
                    pieces.put(("text", str(self.llm.invoke(messages).text)))
                pieces.put(("end", None))
            except Exception as error:  # handed to the waiting request thread
                pieces.put(("error", error))

        context = contextvars.copy_context()  # keeps LangChain callbacks/tracing in the worker
        threading.Thread(target=context.run, args=(call,), name="llm-call", daemon=True).start()
        deadline = time.monotonic() + self.settings.llm_timeout
        while True:
            try:
                kind, value = pieces.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise self._timeout() from None
            if kind == "end":
                return
            if kind == "error":
                raise (self._timeout() if _is_timeout(value) else self._failure(value)) from value
            yield value

    def _describe(self) -> str:
        model = getattr(self.llm, "model_name", None) or getattr(self.llm, "model", None)
        url = getattr(self.llm, "openai_api_base", None) or getattr(self.llm, "base_url", None)
        return (
            f"{type(self.llm).__name__} (provider {self.settings.llm_provider!r}, "
            f"model {model or self.settings.llm_model!r}, "
            f"base URL {url or self.settings.llm_base_url or 'the provider default'})"
        )

    def _timeout(self) -> UpstreamTimeout:
        return UpstreamTimeout(
            f"The chat model {self._describe()} did not answer within "
            f"{self.settings.llm_timeout:g} s. Check that the endpoint is up and not overloaded, "
            "or raise BOARDPAPERS_LLM_TIMEOUT."
        )

    def _failure(self, error: BaseException) -> UpstreamError:
        reason = f"{type(error).__name__}: {error}"
        reason = reason if len(reason) <= 300 else reason[:297] + "..."
        return UpstreamError(
            f"The chat model {self._describe()} failed ({reason}). Check that the endpoint is "
            "running and reachable, that the model exists there and that the API key is right "
            "(BOARDPAPERS_LLM_PROVIDER, _MODEL, _BASE_URL, _API_KEY)."
        )


def _is_timeout(error: BaseException) -> bool:
    """A timeout anywhere in the error's chain: ours, httpx's (Ollama) or openai's."""
    import httpx

    kinds: list[type[BaseException]] = [TimeoutError, httpx.TimeoutException]
    try:
        import openai

        kinds.append(openai.APITimeoutError)
    except ImportError:
        pass
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, tuple(kinds)):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
