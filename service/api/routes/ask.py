from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import ConversationsDep, RewriterDep, ServicesDep, WorkSlot, open_or_404
from service.api.schemas import AskRequest, AskResponse
from service.conversations import Turn

router = APIRouter(tags=["answers"])


@router.post("/ask", response_model=AskResponse, dependencies=[WorkSlot])
def ask(
    request: AskRequest,
    services: ServicesDep,
    conversations: ConversationsDep,
    rewriter: RewriterDep,
) -> AskResponse:
    """An answer whose every statement carries [n], with the numbered verbatim quotes; or
    `answered: false` when the papers do not cover the question. Send the returned
    `conversation_id` back with a follow-up: it is rewritten into the standalone question
    searched (`rewritten_question`)."""
    conversation_id, history = open_or_404(conversations, request.conversation_id)
    standalone = rewriter.rewrite(request.question, history)
    result = services.ask(standalone, k=request.k, filters=request.filters.to_search_filters())
    conversations.add_turn(
        conversation_id, Turn(request.question, standalone, result.answer, result.answered)
    )
    return AskResponse.of(result).model_copy(
        update={
            "question": request.question,
            "rewritten_question": standalone,
            "conversation_id": conversation_id,
        }
    )
