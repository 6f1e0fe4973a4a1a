"""Conversations: the turns of a chat, kept server-side so a follow-up can be read against
what came before.

Two tables, in `settings.data_dir / "conversations.sqlite3"` or the shared database. While
the data folder's disk is full, what is kept can be read, and starting a conversation or
adding a turn raises `DataDiskFull`: the routes answer all the same.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest.store.database import Schema, Store
from ingest.store.disk_full import DataDiskFull

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT ''
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


_SWEEP_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Turn:
    question: str  # as the user typed it
    standalone_question: str  # what was searched: the question rewritten from the history
    answer: str
    answered: bool


class UnknownConversation(LookupError):
    pass


class ConversationStore(Store):
    """Conversations kept `retention_days` after their last turn (None: for ever); older ones
    are forgotten when the store opens and then at most once a day, as turns are added."""

    def __init__(self, where: Path | str, retention_days: int | None = None) -> None:
        super().__init__(where, Schema(_SCHEMA))
        self.retention = timedelta(days=retention_days) if retention_days else None
        self._swept_at = datetime.now(UTC)
        try:
            self._add_owners()
            self.forget_expired()
        except DataDiskFull:  # the service starts all the same; the next sweep is in a day
            log.warning("%s; expired conversations are deleted once there is room", DataDiskFull())

    def forget_expired(self, now: datetime | None = None) -> int:
        """Delete the conversations whose last activity is older than the retention period;
        how many were deleted."""
        self._swept_at = datetime.now(UTC)
        now = now or self._swept_at
        if self.retention is None:
            return 0
        cutoff = (now - self.retention).isoformat(timespec="seconds")
        with self.connection() as connection:
            deleted = connection.execute(
                "DELETE FROM conversations WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM "
                "turns WHERE conversation_id = conversations.id AND created_at >= ?)",
                (cutoff, cutoff),
            ).rowcount
        return int(deleted)

    def _add_owners(self) -> None:
        """A file from before conversations had owners: they get none, so no key opens them."""
        with self.connection() as connection:
            if "owner" not in self.database.columns(connection, "conversations"):
                connection.execute(
                    "ALTER TABLE conversations ADD COLUMN owner TEXT NOT NULL DEFAULT ''"
                )

    def start(self, owner: str) -> str:
        """A new conversation belonging to `owner` (the caller's key id)."""
        conversation_id = uuid.uuid4().hex
        with self.connection() as connection:
            connection.execute(
                "INSERT INTO conversations (id, created_at, owner) VALUES (?, ?, ?)",
                (conversation_id, _now(), owner),
            )
        return conversation_id

    def exists(self, conversation_id: str, owner: str) -> bool:
        """Whether `owner` has this conversation: another's is as good as none."""
        with self.connection() as connection:
            row = connection.execute(
                "SELECT 1 FROM conversations WHERE id = ? AND owner = ? AND owner != ''",
                (conversation_id, owner),
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
        if datetime.now(UTC) - self._swept_at > _SWEEP_EVERY:
            self.forget_expired()
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

    def open(self, conversation_id: str | None, owner: str) -> tuple[str, list[Turn]]:
        """The owner's conversation to add a turn to, and its history: a new one when no id is
        given; `UnknownConversation` for another owner's."""
        if conversation_id is None:
            return self.start(owner), []
        if not self.exists(conversation_id, owner):
            raise UnknownConversation(conversation_id)
        return conversation_id, self.turns(conversation_id)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
