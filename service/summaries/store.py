"""Stored summaries, keyed by document version (the file and the rules that read it) and mode.

A summary is recomputed only when its paper changes: a new version has no stored summary, and
storing one drops the paper's summaries of other versions. A SQLite file of its own beside the
manifest (or a table of the shared database), because summaries belong to the service, not to
the index.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from ingest.store.database import Schema, Store
from service.summaries import DocumentSummary

_SCHEMA = """
CREATE TABLE IF NOT EXISTS summaries (
    doc_id TEXT NOT NULL, version TEXT NOT NULL, mode TEXT NOT NULL, json TEXT NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (doc_id, version, mode)
);
"""


class SummaryStore(Store):
    def __init__(self, where: Path | str) -> None:
        super().__init__(where, Schema(_SCHEMA))

    def get(self, doc_id: str, version: str, mode: str) -> DocumentSummary | None:
        with self.connection() as connection:
            row = connection.execute(
                "SELECT json FROM summaries WHERE doc_id = ? AND version = ? AND mode = ?",
                (doc_id, version, mode),
            ).fetchone()
        return DocumentSummary.from_dict(json.loads(row["json"])) if row else None

    def put(self, summary: DocumentSummary) -> None:
        with self.connection() as connection:
            connection.execute(
                "DELETE FROM summaries WHERE doc_id = ? AND version != ?",
                (summary.doc_id, summary.version),
            )
            connection.execute(
                "INSERT INTO summaries (doc_id, version, mode, json, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (doc_id, version, mode) "
                "DO UPDATE SET json = excluded.json, created_at = excluded.created_at",
                (
                    summary.doc_id, summary.version, summary.mode,
                    json.dumps(summary.to_dict(), ensure_ascii=False),
                    datetime.now(UTC).isoformat(),
                ),
            )  # fmt: skip

    def has(self, doc_id: str, version: str, mode: str) -> bool:
        with self.connection() as connection:
            row = connection.execute(
                "SELECT 1 FROM summaries WHERE doc_id = ? AND version = ? AND mode = ?",
                (doc_id, version, mode),
            ).fetchone()
        return row is not None
