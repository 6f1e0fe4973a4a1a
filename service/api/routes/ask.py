from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.api.access import CallerDep, ReadDep, filters_asked
from service.api.deps import (
    ConversationsDep,
    RewriterDep,
    ServicesDep,
    TextLimitsDep,
    WorkSlot,
    keep_turn,
    open_or_404,
    refuse_if_too_long,
)
from service.api.schemas import AskRequest, AskResponse
from service.conversations import Turn
from service.exports.answers import ANSWER_EXPORTS, AnswerFormatQuery, answer_download
from service.observability.metrics import MetricsDep

router = APIRouter(tags=["answers"])


@router.post("/ask", response_model=AskResponse, responses=ANSWER_EXPORTS, dependencies=[WorkSlot])
def ask(
    request: AskRequest,
    services: ServicesDep,
    conversations: ConversationsDep,
    rewriter: RewriterDep,
    limits: TextLimitsDep,
    caller: CallerDep,
    read: ReadDep,
    http: Request,
    metrics: MetricsDep,
    format: AnswerFormatQuery = "json",
) -> AskResponse | Response:
    """An answer whose every statement carries [n], with the numbered verbatim quotes; or
    `answered: false` when the papers do not cover the question. Send the returned
    `conversation_id` back with a follow-up: it is rewritten into the standalone question
    searched (`rewritten_question`)."""
    refuse_if_too_long(limits, "question", request.question)
    filters = request.filters.to_search_filters()
    read.asked, read.filters = request.question, filters_asked(filters)
    conversation_id, history = open_or_404(conversations, request.conversation_id, caller.identity)
    standalone = rewriter.rewrite(request.question, history)
    # `services.ask`, in its two steps, each timed.
    question = services.reader.read(standalone)
    with metrics.retrieval("/ask"):
        hits = services.passages(question, request.k, caller.narrow(filters))
    with metrics.answer("/ask"):
        result = services.answerer.answer(question, hits)
    read.saw_chunks(citation.chunk for citation in result.citations)
    keep_turn(
        conversations,
        conversation_id,
        Turn(request.question, standalone, result.answer, result.answered),
    )
    answer = AskResponse.of(result).model_copy(
        update={
            "question": request.question,
            "rewritten_question": standalone,
            "conversation_id": conversation_id,
        }
    )
    return answer if format == "json" else answer_download(answer, format, str(http.base_url))
