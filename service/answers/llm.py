"""The LLM answerer: a LangChain chat model writes the answer; we check every citation.

Flow: the evidence check (the same as the extractive answerer's) refuses without calling the
model when the passages do not cover the question. Otherwise the prompt (`prompts/answer.*.md`)
numbers the passages [1]..[n] and asks for an answer marking each statement with [n], then a
`QUOTES:` section of lines `[n] "verbatim quote"`, or the refusal token `NOT_IN_PAPERS`.
The reply is then checked:

- a marker naming no passage is removed, with a warning;
- a quote must be verbatim in its passage; a fabricated one is replaced by the passage's
  sentence closest to the cited statement, the citation is marked `verified=False`, and a
  warning says so; a marker with no quote gets that closest sentence too (verified: the
  passage exists and the quote is verbatim);
- citations are renumbered 1..m in order of first appearance, markers rewritten to match,
  and each quote's page found in the stored page text.

The call runs in a worker thread with a deadline of `settings.llm_timeout`, so a hung model
cannot hang a request: a timeout raises `UpstreamTimeout` (HTTP 504), any other failure
`UpstreamError` (502), each naming the model, its URL and what to check.

Streaming: `stream_tokens(question, hits)` (alias `stream`) is a generator that yields the
model's answer text as it arrives (never the QUOTES section or the refusal token) and
*returns* the checked `AnswerResult` (read it from `StopIteration.value`, or `result = yield
from ...`). The returned `answer` may differ from the joined deltas when the check removed or
renumbered markers: show the returned answer once it arrives.
"""

from __future__ import annotations

import contextvars
import queue
import re
import threading
import time
from collections.abc import Generator, Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from ingest.index import PaperIndex
from ingest.keyword_index import Tokenizer
from ingest.sentences import sentence_spans
from ingest.structure import LIST_MARK

from ..errors import UpstreamError, UpstreamTimeout
from ..prompts import load_chat_prompt
from ..retrieval import Hit, chunk_hits
from ..settings import Settings
from . import NOT_COVERED, AnswerResult, Citation
from .citations import canonical, is_verbatim, quote_pages
from .evidence import check_evidence_with

REFUSAL = "NOT_IN_PAPERS"  # what the prompt tells the model to reply when passages fall short
# "[2]", "[1, 3]", "[1;3]"; at most three digits so years in brackets are not markers.
_MARKER = re.compile(r"([ \t]*)\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_QUOTES_HEADER = re.compile(r"^[ \t>#*_]*quotes?[ \t*_]*:?[ \t*_]*$", re.IGNORECASE | re.MULTILINE)
_QUOTE_LINE = re.compile(r"^[ \t>*•\-]*\[(\d{1,3})\][ \t:–\-]*(.+?)\s*$", re.MULTILINE)
_BARE_QUOTE_LINE = re.compile(r"^[ \t>*•\-]*\[\d{1,3}\][ \t:–\-]*[\"“]")
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
_ELLIPSIS = re.compile(r"\s*(?:\[\s*(?:\.\.\.|…)\s*\]|\.\.\.|…)\s*")
_QUOTED = re.compile(r"[\"“](.+)[\"”]", re.DOTALL)
MIN_QUOTE_SENTENCE_CHARS = 25
# A paragraph number or bullet opening a sentence is layout, not words worth quoting.


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model the settings name; its package is imported only when chosen."""
    match settings.llm_provider:
        case "openai":
            try:
                from langchain_openai import ChatOpenAI
            except ImportError as error:
                raise ImportError(_install_hint("langchain-openai", "openai")) from error
            return ChatOpenAI(
                model=settings.llm_model,
                base_url=settings.llm_base_url,
                api_key=settings.llm_api_key,
                timeout=settings.llm_timeout,
                temperature=settings.llm_temperature,
                max_retries=1,
            )
        case "ollama":
            try:
                from langchain_ollama import ChatOllama
            except ImportError as error:
                raise ImportError(_install_hint("langchain-ollama", "ollama")) from error
            return ChatOllama(
                model=settings.llm_model,
                base_url=settings.llm_base_url,
                temperature=settings.llm_temperature,
                client_kwargs={"timeout": settings.llm_timeout},
            )
    raise ValueError(f"unknown LLM provider {settings.llm_provider!r}")


def _install_hint(package: str, extra: str) -> str:
    return (
        f"BOARDPAPERS_LLM_PROVIDER={extra} needs the {package} package: "
        f"pip install 'boardpapers[{extra}]' (or pip install {package})"
    )


class LLMAnswerer:
    mode = "llm"

    def __init__(self, index: PaperIndex, settings: Settings, llm: BaseChatModel) -> None:
        self.index = index
        self.settings = settings
        self.llm = llm
        self.prompt = load_chat_prompt(settings.prompts_dir, "answer")
        self.tokenizer = Tokenizer()

    def answer(self, question: str, hits: list[Hit]) -> AnswerResult:
        hits = chunk_hits(hits[: self.settings.answer_passages])
        if not self._supported(question, hits):
            return _refusal(hits)
        reply = "".join(self._model_text(self._messages(question, hits), stream=False))
        return self._checked(reply, hits)

    def stream_tokens(self, question: str, hits: list[Hit]) -> Generator[str, None, AnswerResult]:
        hits = chunk_hits(hits[: self.settings.answer_passages])
        if not self._supported(question, hits):
            return _refusal(hits)
        reply, shown = "", ""
        for piece in self._model_text(self._messages(question, hits), stream=True):
            reply += piece
            visible = visible_answer(reply)
            if len(visible) > len(shown) and visible.startswith(shown):
                yield visible[len(shown) :]
                shown = visible
        return self._checked(reply, hits)

    stream = stream_tokens  # the name `/ask/stream` looks for

    def _supported(self, question: str, hits: list[Hit]) -> bool:
        return check_evidence_with(question, hits, self.index, self.settings).supported

    def _messages(self, question: str, hits: list[Hit]) -> list[BaseMessage]:
        passages = "\n\n".join(_passage(n, hit) for n, hit in enumerate(hits, start=1))
        return self.prompt.format_messages(question=question.strip(), passages=passages)

    # --- the model call, under a deadline -------------------------------------------------

    def _model_text(self, messages: list[BaseMessage], *, stream: bool) -> Iterator[str]:
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

    # --- the citation check ---------------------------------------------------------------

    def _checked(self, reply: str, hits: list[Hit]) -> AnswerResult:
        text, quotes = split_reply(reply)
        if REFUSAL in text or not text:
            return _refusal(hits)
        answer, statements, warnings = renumber_markers(text, len(hits))
        if not statements:
            warnings.append("The model's answer cited none of the passages, so it was withheld.")
            return _refusal(hits, warnings)
        page_texts: dict[str, dict[int, str]] = {}
        citations = []
        for n, (passage, cited_by) in enumerate(statements.items(), start=1):
            chunk = hits[passage - 1].chunk
            given = quotes.get(passage, [])
            quote = next((q for q in (verbatim_span(g, chunk.text) for g in given) if q), None)
            verified = quote is not None or not given  # no quote given is no false claim
            if quote is None:
                quote = self._closest_sentence(" ".join(cited_by), chunk.text)
            if not verified:
                warnings.append(
                    f"The model's quote for [{n}] is not in the passage it cites "
                    f"({_clip(given[0])!r}); [{n}] shows the passage's closest sentence "
                    "instead and is marked unverified."
                )
            if chunk.doc_id not in page_texts:
                page_texts[chunk.doc_id] = self.index.manifest.page_texts(chunk.doc_id)
            page, page_end = quote_pages(quote, chunk, page_texts[chunk.doc_id])
            citations.append(Citation(n, quote, chunk, page, page_end, verified))
        warnings.extend(
            f"No citation for: {_clip(answer[start:end])!r}"
            for start, end in sentence_spans(answer)
            if "[" not in answer[start:end] and end - start >= MIN_QUOTE_SENTENCE_CHARS
        )
        return AnswerResult(answer, True, self.mode, citations, hits, warnings)

    def _closest_sentence(self, statement: str, passage: str) -> str:
        """The passage sentence sharing most words with the statement (Dice overlap)."""
        spans = [
            _without_leading_mark(passage, start, end) for start, end in sentence_spans(passage)
        ]
        long_enough = [s for s in spans if s[1] - s[0] >= MIN_QUOTE_SENTENCE_CHARS] or spans
        wanted = set(self.tokenizer(statement))

        def overlap(span: tuple[int, int]) -> float:
            words = set(self.tokenizer(passage[span[0] : span[1]]))
            return 2 * len(wanted & words) / (len(wanted) + len(words) or 1)

        start, end = max(long_enough, key=overlap)
        return passage[start:end]


def renumber_markers(text: str, passages: int) -> tuple[str, dict[int, list[str]], list[str]]:
    """Markers renumbered 1..m by first appearance, those naming no passage removed.

    Returns the rewritten answer; for each cited passage number (in citation order) the
    answer sentences citing it; and a warning per removed marker."""
    statements: dict[int, list[str]] = {}
    warnings: list[str] = []
    sentences = sentence_spans(text)

    def rewrite(marker: re.Match[str]) -> str:
        kept: list[str] = []
        for passage in (int(number) for number in re.split(r"[,;]", marker[2])):
            if not 1 <= passage <= passages:
                warnings.append(
                    f"The model cited passage [{passage}], but only {passages} passages were "
                    "given; that marker was removed."
                )
                continue
            statements.setdefault(passage, []).append(_sentence_at(text, sentences, marker))
            kept.append(f"[{list(statements).index(passage) + 1}]")
        return marker[1] + "".join(dict.fromkeys(kept)) if kept else ""

    return _MARKER.sub(rewrite, text).strip(), statements, warnings


def _refusal(hits: list[Hit], warnings: list[str] | None = None) -> AnswerResult:
    return AnswerResult(NOT_COVERED, False, LLMAnswerer.mode, [], hits, warnings or [])


def _passage(n: int, hit: Hit) -> str:
    chunk = hit.chunk
    meta = chunk.meta
    pages = f"page {chunk.page}" + (f"-{chunk.page_end}" if chunk.page_end != chunk.page else "")
    source = [f'"{meta.title}"' if meta else chunk.doc_id]
    if meta:
        source += [meta.body, meta.date or "undated"]
    source.append(pages)
    if chunk.paragraph:
        source.append(f"paragraph {chunk.paragraph}")
    if chunk.section:
        source.append(f"section: {chunk.section}")
    return f"[{n}] {'; '.join(source)}\n{chunk.text.strip()}"


def _without_leading_mark(text: str, start: int, end: int) -> tuple[int, int]:
    mark = LIST_MARK.match(text[start:end])
    return (start + mark.end(), end) if mark else (start, end)


def _sentence_at(text: str, spans: list[tuple[int, int]], marker: re.Match[str]) -> str:
    position = marker.start(2)
    for start, end in spans:
        if start <= position <= end:
            return _MARKER.sub("", text[start:end])
    return _MARKER.sub("", text[: marker.start()])


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


# --- reading the reply ------------------------------------------------------------------


def split_reply(reply: str) -> tuple[str, dict[int, list[str]]]:
    """The answer text, and the quotes given for each passage number."""
    text = _THINK.sub("", reply).strip()
    header = _QUOTES_HEADER.search(text)
    if header:
        answer, quote_block = text[: header.start()], text[header.end() :]
    else:  # no header: trailing `[n] "…"` lines are still the quotes
        lines = text.splitlines()
        split = len(lines)
        while split and (not lines[split - 1].strip() or _BARE_QUOTE_LINE.match(lines[split - 1])):
            split -= 1
        answer, quote_block = "\n".join(lines[:split]), "\n".join(lines[split:])
    quotes: dict[int, list[str]] = {}
    for line in _QUOTE_LINE.finditer(quote_block):
        quoted = _QUOTED.search(line[2])
        quotes.setdefault(int(line[1]), []).append(quoted[1] if quoted else line[2])
    return answer.strip(), quotes


def visible_answer(reply: str) -> str:
    """The part of a partial reply that is answer text: no QUOTES section, no refusal token,
    no reasoning block, and no unfinished last line that may turn into either."""
    text = _THINK.sub("", reply)
    header = _QUOTES_HEADER.search(text)
    if header:
        text = text[: header.start()]
    else:
        last = text.rfind("\n") + 1
        tail = text[last:].strip(" \t>#*_")
        if tail and ("quotes:".startswith(tail.lower()) or re.match(r"\[\d*\]?\s*[\"“]?$", tail)):
            text = text[:last]
        lines = text.split("\n")
        while lines and (not lines[-1].strip() or _BARE_QUOTE_LINE.match(lines[-1])):
            lines.pop()
        text = "\n".join(lines)
    text = text.strip()
    return "" if REFUSAL.startswith(text) or REFUSAL in text else text


def verbatim_span(quote: str, passage: str) -> str | None:
    """The passage's own text for a quote that is verbatim in it (an elided quote, "a … b",
    counts when every piece is; its longest piece is kept), else None."""
    pieces = [piece for piece in _ELLIPSIS.split(quote.strip()) if piece.strip()]
    if not pieces or not all(is_verbatim(piece, passage) for piece in pieces):
        return None
    needle = canonical(max(pieces, key=len))
    pattern = "".join(
        r"\s+" if char == " " else "['‘’]" if char == "'" else "[\"“”]" if char == '"'
        else re.escape(char)
        for char in needle
    )  # fmt: skip
    found = re.search(pattern, passage.replace("\u00a0", " "))
    return passage[found.start() : found.end()] if found else needle
