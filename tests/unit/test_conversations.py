"""Conversations: turns kept in SQLite, and `/ask` carrying a conversation across requests (the
follow-up rewriters have their own tests: test_followup.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.container import Services
from service.conversations import ConversationStore, Turn, UnknownConversation
from service.settings import Settings


def test_turns_persist_in_order_across_store_instances(tmp_path: Path) -> None:
    path = tmp_path / "data" / "conversations.sqlite3"
    store = ConversationStore(path)
    first = store.start("k1")
    other = store.start("k1")
    store.add_turn(first, Turn("q1", "q1", "a1", True))
    store.add_turn(other, Turn("x", "x", "y", False))
    store.add_turn(first, Turn("and q2?", "standalone q2", "a2", False))
    reopened = ConversationStore(path)
    assert reopened.turns(first) == [
        Turn("q1", "q1", "a1", True),
        Turn("and q2?", "standalone q2", "a2", False),
    ]
    assert reopened.open(other, "k1") == (other, [Turn("x", "x", "y", False)])
    reopened.delete(first)
    assert not reopened.exists(first, "k1")
    assert reopened.turns(first) == []  # its turns go with it
    with pytest.raises(UnknownConversation):
        reopened.add_turn(first, Turn("q", "q", "a", True))
    with pytest.raises(UnknownConversation):
        reopened.open("no-such-id", "k1")
    with pytest.raises(UnknownConversation):  # another key's conversation is none of its own
        reopened.open(other, "k2")


def test_conversations_are_forgotten_after_the_retention_period(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    store = ConversationStore(path, retention_days=90)
    old, recent = store.start("k1"), store.start("k1")
    store.add_turn(recent, Turn("q", "q", "a", True))
    # `old` was last active 100 days ago; `recent` started then but has a turn from today
    aged = (datetime.now(UTC) - timedelta(days=100)).isoformat(timespec="seconds")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE conversations SET created_at = ?", (aged,))
    assert ConversationStore(path).exists(old, "k1")  # no retention set: kept for ever
    reopened = ConversationStore(path, retention_days=90)  # the sweep at start-up
    assert not reopened.exists(old, "k1")
    assert reopened.turns(recent) == [Turn("q", "q", "a", True)]
    # a day's sweep a year on forgets the rest
    assert reopened.forget_expired(datetime.now(UTC) + timedelta(days=365)) == 1
    assert not reopened.exists(recent, "k1")


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
