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
  and each quote's page found in the stored page text;
- an answer written as a lead sentence and then a bulleted list ("- ", "* " or "1. " lines)
  is a list answer: its entries (markers included) are the result's `items`, and its text is
  rewritten as the lead followed by each entry as a "- " line. A list followed by more prose
  stays prose.

The model is called under a deadline (`service/llm/deadline.py`).

Streaming: `stream_tokens(question, hits)` (alias `stream`) is a generator that yields the
model's answer text as it arrives (never the QUOTES section or the refusal token) and
*returns* the checked `AnswerResult` (read it from `StopIteration.value`, or `result = yield
from ...`). The returned `answer` may differ from the joined deltas when the check removed or
renumbered markers: show the returned answer once it arrives.
"""

from __future__ import annotations

import re
from collections.abc import Generator

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from ingest.reading.structure import unmarked_sentence_spans
from ingest.store.index import PaperIndex
from ingest.text.sentences import sentence_spans
from ingest.text.tokens import Tokenizer
from service.answers import NOT_COVERED, AnswerResult, Citation
from service.answers.evidence import check_statements
from service.answers.statements import statements_of
from service.citations import QuotePages, renumber_markers, verbatim_span
from service.llm.deadline import DeadlineChat
from service.llm.prompts import load_chat_prompt
from service.llm.replies import REFUSAL, split_reply, visible_answer
from service.query.question import Question
from service.retrieval.hits import Hit, chunk_hits
from service.settings import Settings

# A list entry's line: "- ", "* ", "• ", "1. " or "1) " (indented too: a sub-list is flattened).
_BULLET = re.compile(r"^[ \t]*(?:[-*•]|\d{1,2}[.)])[ \t]+(?=\S)")
MIN_QUOTE_SENTENCE_CHARS = 25
# A paragraph number or bullet opening a sentence is layout, not words worth quoting.


class LLMAnswerer:
    mode = "llm"

    def __init__(self, index: PaperIndex, settings: Settings, llm: BaseChatModel) -> None:
        self.index = index
        self.settings = settings
        self.llm = llm
        self.prompt = load_chat_prompt(settings.prompts_dir, "answer")
        self.tokenizer = Tokenizer()
        self.chat = DeadlineChat(llm, settings)

    def answer(self, question: Question, hits: list[Hit]) -> AnswerResult:
        hits = chunk_hits(hits[: self.settings.answer_passages])
        if not self._supported(question, hits):
            return _refusal(hits)
        reply = "".join(self.chat.text(self._messages(question, hits), stream=False))
        return self._checked(reply, hits)

    def stream_tokens(
        self, question: Question, hits: list[Hit]
    ) -> Generator[str, None, AnswerResult]:
        hits = chunk_hits(hits[: self.settings.answer_passages])
        if not self._supported(question, hits):
            return _refusal(hits)
        reply, shown = "", ""
        for piece in self.chat.text(self._messages(question, hits), stream=True):
            reply += piece
            visible = visible_answer(reply)
            if len(visible) > len(shown) and visible.startswith(shown):
                yield visible[len(shown) :]
                shown = visible
        return self._checked(reply, hits)

    stream = stream_tokens  # the name `/ask/stream` looks for

    def _supported(self, question: Question, hits: list[Hit]) -> bool:
        """The extractive answerer's evidence check: the model is not asked what the papers
        do not cover."""
        statements = statements_of(question, hits, self.index.keyword_index().tokenizer)
        return check_statements(question, statements, self.settings).supported

    def _messages(self, question: Question, hits: list[Hit]) -> list[BaseMessage]:
        passages = "\n\n".join(_passage(n, hit) for n, hit in enumerate(hits, start=1))
        return self.prompt.format_messages(question=question.text, passages=passages)

    # --- the citation check ---------------------------------------------------------------

    def _checked(self, reply: str, hits: list[Hit]) -> AnswerResult:
        text, quotes = split_reply(reply)
        if REFUSAL in text or not text:
            return _refusal(hits)
        answer, statements, warnings = renumber_markers(text, len(hits))
        if not statements:
            warnings.append("The model's answer cited none of the passages, so it was withheld.")
            return _refusal(hits, warnings)
        pages_of = QuotePages(self.index.manifest.page_texts)
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
            page, page_end = pages_of(quote, chunk)
            citations.append(Citation(n, quote, chunk, page, page_end, verified))
        listed = list_answer(answer)
        if listed:
            lead, items = listed
            answer = lead + "".join(f"\n- {item}" for item in items)
            # The lead's last sentence introduces the list: the entries carry its citations.
            spans = sentence_spans(lead)
            statements_text = [lead[: spans[-1][0]] if spans else "", *items]
        else:
            items, statements_text = [], [answer]
        warnings.extend(
            f"No citation for: {_clip(text[start:end])!r}"
            for text in statements_text
            for start, end in sentence_spans(text)
            if "[" not in text[start:end] and end - start >= MIN_QUOTE_SENTENCE_CHARS
        )
        return AnswerResult(answer, True, self.mode, citations, hits, warnings, items=items)

    def _closest_sentence(self, statement: str, passage: str) -> str:
        """The passage sentence sharing most words with the statement (Dice overlap)."""
        spans = unmarked_sentence_spans(passage)
        long_enough = [s for s in spans if s[1] - s[0] >= MIN_QUOTE_SENTENCE_CHARS] or spans
        wanted = set(self.tokenizer(statement))

        def overlap(span: tuple[int, int]) -> float:
            words = set(self.tokenizer(passage[span[0] : span[1]]))
            return 2 * len(wanted & words) / (len(wanted) + len(words) or 1)

        start, end = max(long_enough, key=overlap)
        return passage[start:end]


def list_answer(text: str) -> tuple[str, list[str]] | None:
    """The lead and the entries of an answer written as a lead then a bulleted list, or None.

    Blank lines may separate the lead from the list and the entries; an indented line that is
    no entry continues the entry above it. Any other line after the list (more prose) makes the
    answer prose, and so does a list with no lead before it."""
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if _BULLET.match(line)), None)
    if first is None:
        return None
    lead = "\n".join(lines[:first]).strip()
    if not lead:
        return None
    items: list[str] = []
    for line in lines[first:]:
        bullet = _BULLET.match(line)
        if bullet:
            items.append(line[bullet.end() :].strip())
        elif not line.strip():
            continue
        elif line[:1] in " \t":
            items[-1] = f"{items[-1]} {line.strip()}"
        else:
            return None
    return lead, items


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


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
