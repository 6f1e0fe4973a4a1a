"""Conversations: turns kept in SQLite, follow-ups rewritten into standalone questions (by rule
and by a chat model), and `/ask` carrying a conversation across requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from service.api.app import create_app
from service.container import Services
from service.conversations import ConversationStore, Turn, UnknownConversation
from service.query.followup import LLMRewriter, RuleRewriter
from service.settings import PROJECT_ROOT, Settings


def test_turns_persist_in_order_across_store_instances(tmp_path: Path) -> None:
    path = tmp_path / "data" / "conversations.sqlite3"
    store = ConversationStore(path)
    first = store.start()
    other = store.start()
    store.add_turn(first, Turn("q1", "q1", "a1", True))
    store.add_turn(other, Turn("x", "x", "y", False))
    store.add_turn(first, Turn("and q2?", "standalone q2", "a2", False))
    reopened = ConversationStore(path)
    assert reopened.turns(first) == [
        Turn("q1", "q1", "a1", True),
        Turn("and q2?", "standalone q2", "a2", False),
    ]
    assert reopened.open(other) == (other, [Turn("x", "x", "y", False)])
    reopened.delete(first)
    assert not reopened.exists(first)
    assert reopened.turns(first) == []  # its turns go with it
    with pytest.raises(UnknownConversation):
        reopened.add_turn(first, Turn("q", "q", "a", True))
    with pytest.raises(UnknownConversation):
        reopened.open("no-such-id")


def history(*standalone: str) -> list[Turn]:
    return [Turn(q, q, "an answer [1]", True) for q in standalone]


@pytest.mark.parametrize(
    ("previous", "follow_up", "standalone"),
    [
        # A new name replaces the name it contrasts, the rest of the question stays.
        (
            "How much funding was allocated to Cherwell District Council for 2021/22?",
            "And what about West Oxfordshire?",
            "How much funding was allocated to West Oxfordshire for 2021/22?",
        ),
        # A refinement of a name replaces it, not another name.
        (
            "What did the Safer Oxfordshire Partnership say about crime in Oxfordshire?",
            "what about West Oxfordshire",
            "What did the Safer Oxfordshire Partnership say about crime in West Oxfordshire?",
        ),
        # A year replaces the year.
        (
            "What was the adult re-offending rate in Oxfordshire in 2014?",
            "and in 2013?",
            "What was the adult re-offending rate in Oxfordshire in 2013?",
        ),
        # A bare short phrase is elliptical too.
        (
            "How much did crime increase in West Oxfordshire?",
            "Cherwell?",
            "How much did crime increase in Cherwell?",
        ),
        # A plain phrase replaces the object of the last preposition.
        (
            "What did the OSCB report about neglect?",
            "what about exploitation?",
            "What did the OSCB report about exploitation?",
        ),
        # Pronouns take the previous question's subject.
        (
            "What is the Neglect Practitioner Portal?",
            "When will it be available?",
            "When will the Neglect Practitioner Portal be available?",
        ),
        (
            "Who wrote the Safer Oxfordshire Partnership protocol?",
            "What are its aims?",
            "What are the Safer Oxfordshire Partnership's aims?",
        ),
        # A complete question is left alone.
        (
            "How many people were detained under Section 136 in 2016?",
            "What is the Health and Wellbeing Board's role in homelessness?",
            "What is the Health and Wellbeing Board's role in homelessness?",
        ),
    ],
)
def test_rule_rewriter(previous: str, follow_up: str, standalone: str) -> None:
    assert RuleRewriter().rewrite(follow_up, history(previous)) == standalone


def test_rule_rewriter_reads_against_the_latest_standalone_question() -> None:
    turns = history("What was the re-offending rate in Oxfordshire in 2014?") + [
        Turn("and in 2013?", "What was the re-offending rate in Oxfordshire in 2013?", "…", True)
    ]
    assert RuleRewriter().rewrite("What about Cherwell?", turns) == (
        "What was the re-offending rate in Cherwell in 2013?"
    )


def test_first_question_is_never_rewritten() -> None:
    assert RuleRewriter().rewrite("  and what about it?  ", []) == "and what about it?"


def test_llm_rewriter_sends_the_history_and_uses_the_reply() -> None:
    model = FakeListChatModel(responses=["How much did West Oxfordshire receive in 2021/22?"])
    rewriter = LLMRewriter(model, PROJECT_ROOT / "prompts")
    turns = history("How much did Cherwell District Council receive in 2021/22?")
    messages = rewriter.messages("and West Oxfordshire?", turns)
    prompt = "\n".join(str(message.content) for message in messages)
    assert "How much did Cherwell District Council receive in 2021/22?" in prompt
    assert "Follow-up: and West Oxfordshire?" in prompt
    assert "{" not in prompt  # every placeholder filled
    assert rewriter.rewrite("and West Oxfordshire?", turns) == (
        "How much did West Oxfordshire receive in 2021/22?"
    )


def test_llm_rewriter_falls_back_to_the_rules_on_a_rambling_reply() -> None:
    model = FakeListChatModel(responses=["Sure! Here is the question:\nHow much …"])
    rewriter = LLMRewriter(model, PROJECT_ROOT / "prompts")
    turns = history("What was the adult re-offending rate in Oxfordshire in 2014?")
    assert rewriter.rewrite("and in 2013?", turns) == (
        "What was the adult re-offending rate in Oxfordshire in 2013?"
    )


def test_ask_carries_a_conversation(corpus_services: Services, settings: Settings) -> None:
    with TestClient(create_app(settings, services=corpus_services)) as client:
        first = client.post(
            "/ask", json={"question": "How much did crime increase in West Oxfordshire?"}
        ).json()
        assert first["question"] == first["rewritten_question"]
        follow_up = client.post(
            "/ask", json={"question": "and Cherwell?", "conversation_id": first["conversation_id"]}
        ).json()
    assert follow_up["conversation_id"] == first["conversation_id"]
    assert follow_up["question"] == "and Cherwell?"
    assert follow_up["rewritten_question"] == "How much did crime increase in Cherwell?"
    assert follow_up["answered"] is True
    assert "Cherwell" in follow_up["answer"]
    stored = ConversationStore(settings.data_dir / "conversations.sqlite3")
    turns = stored.turns(first["conversation_id"])
    assert [t.standalone_question for t in turns] == [
        "How much did crime increase in West Oxfordshire?",
        "How much did crime increase in Cherwell?",
    ]
    assert turns[1].answer == follow_up["answer"]
