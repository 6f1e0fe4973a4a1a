"""`POST /ask/stream`: the answer as server-sent events, so the page shows sources at once
and the answer as it is produced.

Events, in order:
- `passages`: the retrieved sources, plus the conversation id and the question searched;
- `citation` (before the text that first cites it) and `delta` (answer text), interleaved;
- `replace` (streaming answerers only, and only when needed): the checked answer text, when
  the check changed what was streamed (markers renumbered or dropped, a list rewritten as
  "- " lines); it replaces the deltas so far;
- `done`: the complete answer, the same object `/ask` returns, with `items` holding the
  entries of a list answer; or `error` if answering failed.

The deltas (or the `replace` text, when one is sent) are the `done` answer exactly. An answerer
that can stream (a `stream(question, hits)` generator yielding text and returning its
`AnswerResult`) streams tokens, and its citations are checked before `done`; any other
answerer's finished answer is sent sentence by sentence (a list answer's lead, then each
"- " line).

The answer holds one of the work slots (see `deps.WorkSlots`) until its last event is sent, or
until the client has gone and the step being worked on ends.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Generator, Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from ingest.store.index import SearchFilters
from service.access.audit import ReadRecord
from service.answers import Answerer, AnswerResult
from service.api.access import CallerDep, ReadDep, filters_asked
from service.api.deps import (
    ConversationsDep,
    RewriterDep,
    ServicesDep,
    StreamWorkSlot,
    TextLimitsDep,
    keep_turn,
    open_or_404,
    refuse_if_too_long,
)
from service.api.schemas import AskRequest, AskResponse, CitationOut, SearchResult
from service.container import Services
from service.conversations import ConversationStore, Turn
from service.observability.metrics import Metrics, MetricsDep
from service.query.question import Question
from service.retrieval.hits import Hit

router = APIRouter(tags=["answers"])
log = logging.getLogger(__name__)

# A piece ends after a citation marker run ("… [1][2]"), a sentence end, or a list's lead-in
# ("… are:" before its "- " lines), keeping the space.
_PIECE_END = re.compile(r"(?:\]|[.!?]|:(?=\n))(?=\s+|$)")
_MARKER = re.compile(r"\[(\d+)\]")


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def answer_pieces(answer: str) -> list[str]:
    """The answer cut after each cited sentence; the pieces join back into it exactly."""
    pieces: list[str] = []
    start = 0
    for match in _PIECE_END.finditer(answer):
        if answer[match.end() : match.end() + 2].lstrip().startswith("["):
            continue  # more markers follow this sentence: keep them together
        pieces.append(answer[start : match.end()])
        start = match.end()
    if start < len(answer):
        pieces.append(answer[start:])
    return [piece for piece in pieces if piece]


def _answer_events(
    answerer: Answerer, question: Question, hits: list[Hit]
) -> Generator[str, None, AnswerResult]:
    """`citation` and `delta` events; the generator's return value is the `AnswerResult`."""
    stream = getattr(answerer, "stream", None)
    if callable(stream):
        tokens: Generator[str, None, AnswerResult] = stream(question, hits)
        text = ""
        while True:
            try:
                token = next(tokens)
            except StopIteration as finished:
                result: AnswerResult = finished.value
                break
            text += token
            yield sse("delta", {"text": token})
        if text != result.answer:  # the answerer revised what it streamed (a claim dropped)
            yield sse("replace", {"text": result.answer})
        for citation in result.citations:
            yield sse("citation", CitationOut.of(citation).model_dump(mode="json"))
        return result
    result = answerer.answer(question, hits)
    by_number = {citation.n: citation for citation in result.citations}
    sent: set[int] = set()
    for piece in answer_pieces(result.answer):
        # A citation arrives before the text that first cites it, so [n] renders as a link.
        for n in (int(m) for m in _MARKER.findall(piece)):
            if n in by_number and n not in sent:
                sent.add(n)
                yield sse("citation", CitationOut.of(by_number[n]).model_dump(mode="json"))
        yield sse("delta", {"text": piece})
    for citation in result.citations:
        if citation.n not in sent:
            yield sse("citation", CitationOut.of(citation).model_dump(mode="json"))
    return result


def _events(
    request: AskRequest,
    services: Services,
    conversations: ConversationStore,
    conversation_id: str | None,
    standalone: str,
    filters: SearchFilters | None,
    read: ReadRecord,
    metrics: Metrics,
) -> Iterator[str]:
    try:
        question = services.reader.read(standalone)
        with metrics.retrieval("/ask/stream"):
            hits = services.passages(question, request.k, filters)
        read.saw_chunks(chunk for hit in hits for chunk in hit.chunks)
        yield sse(
            "passages",
            {
                "conversation_id": conversation_id,
                "question": request.question,
                "rewritten_question": standalone,
                "passages": [SearchResult.of(hit).model_dump(mode="json") for hit in hits],
            },
        )
        with metrics.answer("/ask/stream"):
            result = yield from _answer_events(services.answerer, question, hits)
        keep_turn(
            conversations,
            conversation_id,
            Turn(request.question, standalone, result.answer, result.answered),
        )
        response = AskResponse.of(result).model_copy(
            update={
                "question": request.question,
                "rewritten_question": standalone,
                "conversation_id": conversation_id,
            }
        )
        yield sse("done", response.model_dump(mode="json"))
    except Exception as error:  # the stream has started: the client can only hear of it here
        log.exception("answer stream failed")
        yield sse("error", {"detail": f"{type(error).__name__}: {error}"})


@router.post(
    "/ask/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    dependencies=[StreamWorkSlot],
)
def ask_stream(
    request: AskRequest,
    services: ServicesDep,
    conversations: ConversationsDep,
    rewriter: RewriterDep,
    limits: TextLimitsDep,
    caller: CallerDep,
    read: ReadDep,
    metrics: MetricsDep,
) -> StreamingResponse:
    """The `/ask` answer as server-sent events: `passages`, then `citation`/`delta` (and
    `replace` when a streamed answer was revised by the citation check), then `done` (the
    `/ask` object, `items` included) or `error`."""
    refuse_if_too_long(limits, "question", request.question)
    filters = request.filters.to_search_filters()
    read.asked, read.filters = request.question, filters_asked(filters)
    conversation_id, history = open_or_404(conversations, request.conversation_id, caller.identity)
    standalone = rewriter.rewrite(request.question, history)
    return StreamingResponse(
        _events(
            request,
            services,
            conversations,
            conversation_id,
            standalone,
            caller.narrow(filters),
            read,
            metrics,
        ),  # fmt: skip
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
