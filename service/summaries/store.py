"""Stored summaries, keyed by document version (the file's SHA-256) and mode.

A summary is recomputed only when its paper changes: a new version has no stored summary, and
storing one drops the paper's summaries of other versions. A SQLite file of its own beside the
manifest, because summaries belong to the service, not to the index.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from . import DocumentSummary

_SCHEMA = """
CREATE TABLE IF NOT EXISTS summaries (
    doc_id TEXT NOT NULL, version TEXT NOT NULL, mode TEXT NOT NULL, json TEXT NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (doc_id, version, mode)
);
"""


class SummaryStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        with self._connection() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> SummaryStore:
        return cls(data_dir / "summaries.sqlite3")

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        # One connection per thread: FastAPI runs sync routes in a thread pool.
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30)
            connection.row_factory = sqlite3.Row
            self._local.connection = connection
        with connection:
            yield connection

    def get(self, doc_id: str, version: str, mode: str) -> DocumentSummary | None:
        with self._connection() as connection:
            row = connection.execute(
                "SELECT json FROM summaries WHERE doc_id = ? AND version = ? AND mode = ?",
                (doc_id, version, mode),
            ).fetchone()
        return DocumentSummary.from_dict(json.loads(row["json"])) if row else None

    def put(self, summary: DocumentSummary) -> None:
        with self._connection() as connection:
            connection.execute(
                "DELETE FROM summaries WHERE doc_id = ? AND version != ?",
                (summary.doc_id, summary.version),
            )
            connection.execute(
                "INSERT OR REPLACE INTO summaries (doc_id, version, mode, json, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    summary.doc_id, summary.version, summary.mode,
                    json.dumps(summary.to_dict(), ensure_ascii=False),
                    datetime.now(UTC).isoformat(),
                ),
            )  # fmt: skip

    def has(self, doc_id: str, version: str, mode: str) -> bool:
        with self._connection() as connection:
            row = connection.execute(
                "SELECT 1 FROM summaries WHERE doc_id = ? AND version = ? AND mode = ?",
                (doc_id, version, mode),
            ).fetchone()
        return row is not None
