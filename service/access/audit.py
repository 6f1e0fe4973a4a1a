"""The audit log: who read what, one row per request that reads papers, never changed.

Rows hold the time, the key's name and role, the route, the question or theme, the filters,
the documents and pages returned or cited, the status and the latency. Never a key or its
secret. Rows are removed only by age (`retention_days`); an UPDATE is refused by the table.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest.models import Chunk
from ingest.store.database import Schema, Store
from ingest.store.disk_full import DataDiskFull

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    key_id TEXT,
    key_name TEXT NOT NULL,
    role TEXT NOT NULL,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    asked TEXT,
    filters TEXT,
    documents TEXT NOT NULL,
    status INTEGER NOT NULL,
    latency_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at);
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS audit_is_append_only BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
_POSTGRESQL_TRIGGER = """
CREATE OR REPLACE FUNCTION audit_refuse_update() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE OR REPLACE TRIGGER audit_is_append_only BEFORE UPDATE ON audit
FOR EACH ROW EXECUTE FUNCTION audit_refuse_update();
"""


@dataclass
class ReadRecord:
    """What a route read for its caller, filled in as it works."""

    asked: str | None = None  # the question, theme or document asked for
    filters: dict[str, Any] | None = None
    documents: dict[str, set[int]] = field(default_factory=dict)  # doc id → pages

    def saw(self, doc_id: str, pages: Iterable[int] = ()) -> None:
        self.documents.setdefault(doc_id, set()).update(pages)

    def saw_chunks(self, chunks: Iterable[Chunk]) -> None:
        for chunk in chunks:
            self.saw(chunk.doc_id, range(chunk.page, chunk.page_end + 1))


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    key_id: str | None
    key_name: str
    role: str
    method: str
    route: str
    asked: str | None
    filters: dict[str, Any] | None
    documents: dict[str, list[int]]
    status: int
    latency_ms: float

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "at": self.at.isoformat()}


class AuditLog(Store):
    def __init__(self, where: Path | str, retention_days: int | None = None) -> None:
        super().__init__(where, Schema(_SCHEMA, _SQLITE_TRIGGER, _POSTGRESQL_TRIGGER))
        self.retention = timedelta(days=retention_days) if retention_days else None
        self._swept_at: datetime | None = None

    def append(self, row: AuditRow) -> None:
        """Write one row; on a full disk the request has been answered, so warn and go on."""
        try:
            with self.connection() as connection:
                connection.execute(
                    "INSERT INTO audit (at, key_id, key_name, role, method, route, asked,"
                    " filters, documents, status, latency_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (row.at.isoformat(), row.key_id, row.key_name, row.role, row.method,
                     row.route, row.asked, json.dumps(row.filters) if row.filters else None,
                     json.dumps(row.documents), row.status, round(row.latency_ms, 1)),
                )  # fmt: skip
        except DataDiskFull:
            log.warning(
                "audit row for %s %s not written: %s", row.method, row.route, DataDiskFull()
            )
            return
        self._sweep_daily(row.at)

    def rows(self, since: datetime | None = None, key: str | None = None) -> list[AuditRow]:
        """Rows oldest first, from `since`, for one key (by id or name)."""
        query, params = "SELECT * FROM audit WHERE 1=1", list[str]()
        if since is not None:
            query, params = query + " AND at >= ?", [*params, since.isoformat()]
        if key is not None:
            query, params = query + " AND (key_id = ? OR key_name = ?)", [*params, key, key]
        with self.connection() as connection:
            found = connection.execute(query + " ORDER BY n", params).fetchall()
        return [
            AuditRow(
                at=datetime.fromisoformat(r["at"]), key_id=r["key_id"], key_name=r["key_name"],
                role=r["role"], method=r["method"], route=r["route"], asked=r["asked"],
                filters=json.loads(r["filters"]) if r["filters"] else None,
                documents=json.loads(r["documents"]), status=r["status"],
                latency_ms=r["latency_ms"],
            )
            for r in found
        ]  # fmt: skip

    def forget_older_than_retention(self, now: datetime | None = None) -> int:
        if self.retention is None:
            return 0
        cutoff = (now or datetime.now(UTC)) - self.retention
        with self.connection() as connection:
            return connection.execute(
                "DELETE FROM audit WHERE at < ?", (cutoff.isoformat(),)
            ).rowcount

    def _sweep_daily(self, now: datetime) -> None:
        if self._swept_at is not None and now - self._swept_at < timedelta(days=1):
            return
        self._swept_at = now
        with contextlib.suppress(DataDiskFull):  # the next day's sweep tries again
            self.forget_older_than_retention(now)
