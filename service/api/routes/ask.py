from __future__ import annotations

from fastapi import APIRouter

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

router = APIRouter(tags=["answers"])


@router.post("/ask", response_model=AskResponse, dependencies=[WorkSlot])
def ask(
    request: AskRequest,
    services: ServicesDep,
    conversations: ConversationsDep,
    rewriter: RewriterDep,
    limits: TextLimitsDep,
    caller: CallerDep,
    read: ReadDep,
) -> AskResponse:
    """An answer whose every statement carries [n], with the numbered verbatim quotes; or
    `answered: false` when the papers do not cover the question. Send the returned
    `conversation_id` back with a follow-up: it is rewritten into the standalone question
    searched (`rewritten_question`)."""
    refuse_if_too_long(limits, "question", request.question)
    filters = request.filters.to_search_filters()
    read.asked, read.filters = request.question, filters_asked(filters)
    conversation_id, history = open_or_404(conversations, request.conversation_id, caller.identity)
    standalone = rewriter.rewrite(request.question, history)
    result = services.ask(standalone, k=request.k, filters=caller.narrow(filters))
    read.saw_chunks(citation.chunk for citation in result.citations)
    keep_turn(
        conversations,
        conversation_id,
        Turn(request.question, standalone, result.answer, result.answered),
    )
    return AskResponse.of(result).model_copy(
        update={
            "question": request.question,
            "rewritten_question": standalone,
            "conversation_id": conversation_id,
        }
    )
