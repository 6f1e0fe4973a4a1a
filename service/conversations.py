"""Conversations: the turns of a chat, kept server-side in SQLite so a follow-up can be read
against what came before.

One file, `settings.data_dir / "conversations.sqlite3"`, two tables, through `SQLiteStore`
(one connection per thread: requests run on a thread pool).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingest.store.sqlite import SQLiteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    question TEXT NOT NULL,
    standalone_question TEXT NOT NULL,
    answer TEXT NOT NULL,
    answered INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, n)
);
"""


@dataclass(frozen=True)
class Turn:
    question: str  # as the user typed it
    standalone_question: str  # what was searched: the question rewritten from the history
    answer: str
    answered: bool


class UnknownConversation(LookupError):
    pass


class ConversationStore(SQLiteStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def start(self) -> str:
        conversation_id = uuid.uuid4().hex
        with self.connection() as connection:
            connection.execute(
                "INSERT INTO conversations (id, created_at) VALUES (?, ?)",
                (conversation_id, _now()),
            )
        return conversation_id

    def exists(self, conversation_id: str) -> bool:
        with self.connection() as connection:
            row = connection.execute(
                "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
        return row is not None

    def turns(self, conversation_id: str) -> list[Turn]:
        with self.connection() as connection:
            rows = connection.execute(
                "SELECT question, standalone_question, answer, answered FROM turns "
                "WHERE conversation_id = ? ORDER BY n",
                (conversation_id,),
            ).fetchall()
        return [Turn(q, s, a, bool(ok)) for q, s, a, ok in map(tuple, rows)]

    def add_turn(self, conversation_id: str, turn: Turn) -> None:
        with self.connection() as connection:
            if (
                connection.execute(
                    "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)
                ).fetchone()
                is None
            ):
                raise UnknownConversation(conversation_id)
            connection.execute(
                "INSERT INTO turns (conversation_id, n, question, standalone_question, answer, "
                "answered, created_at) VALUES (?, (SELECT COALESCE(MAX(n), 0) + 1 FROM turns "
                "WHERE conversation_id = ?), ?, ?, ?, ?, ?)",
                (conversation_id, conversation_id, turn.question, turn.standalone_question,
                 turn.answer, int(turn.answered), _now()),
            )  # fmt: skip

    def delete(self, conversation_id: str) -> None:
        with self.connection() as connection:
            connection.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def open(self, conversation_id: str | None) -> tuple[str, list[Turn]]:
        """The conversation to add a turn to, and its history: a new one when no id is given."""
        if conversation_id is None:
            return self.start(), []
        if not self.exists(conversation_id):
            raise UnknownConversation(conversation_id)
        return conversation_id, self.turns(conversation_id)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
