"""The document manifest: the tables (in the data folder's SQLite file, or the shared
database) that say which version of each document
is live, and keeps the chunks' and pages' text for exact quoting and keyword search.

A document's new version is written beside the old one and made live in a single
transaction, so a reader sees one version or the other, never both and never half of one.
Only `ingest.index` writes here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.models import Chunk, DocumentMeta, Page
from ingest.store.database import Schema, Store
from ingest.store.disk_full import DataDiskFull

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, version TEXT NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL,
    title TEXT NOT NULL, body TEXT NOT NULL, date TEXT, doc_type TEXT NOT NULL,
    access TEXT NOT NULL, url TEXT, pages INTEGER NOT NULL, chunk_count INTEGER NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, version TEXT NOT NULL,
    ordinal INTEGER NOT NULL, text TEXT NOT NULL, page INTEGER NOT NULL,
    page_end INTEGER NOT NULL, section TEXT NOT NULL, paragraph TEXT, kind TEXT NOT NULL,
    char_start INTEGER NOT NULL, char_end INTEGER NOT NULL, ocr INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_by_version ON chunks (doc_id, version, ordinal);
CREATE TABLE IF NOT EXISTS pages (
    doc_id TEXT NOT NULL, version TEXT NOT NULL, number INTEGER NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (doc_id, version, number)
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS extractions (
    doc_id TEXT NOT NULL, version TEXT NOT NULL, json TEXT NOT NULL,
    PRIMARY KEY (doc_id, version)
);
"""

_DOCUMENT_COLUMNS = (
    "doc_id", "version", "source", "path", "title", "body", "date", "doc_type", "access", "url",
    "pages", "chunk_count", "ingested_at",
)  # fmt: skip
_DOC_FIELDS = ("doc_id", "source", "title", "body", "date", "doc_type", "access", "url")
_CHUNK_COLUMNS = (
    "chunk_id, doc_id, version, ordinal, text, page, page_end, section, paragraph, kind, "
    "char_start, char_end, ocr"
)


class StoredDocument:
    """A live document as the manifest records it."""

    __slots__ = ("meta", "version", "path", "pages", "chunk_count", "ingested_at")

    def __init__(self, row: Any) -> None:
        self.meta = DocumentMeta(**{name: row[name] for name in _DOC_FIELDS})
        self.version: str = row["version"]
        self.path: str = row["path"]
        self.pages: int = row["pages"]
        self.chunk_count: int = row["chunk_count"]
        self.ingested_at: str = row["ingested_at"]


class Manifest(Store):
    def __init__(self, where: Path | str) -> None:
        super().__init__(where, Schema(_SCHEMA))
        # the live documents as of a generation, and their metadata by id
        self._documents: tuple[int, list[StoredDocument], dict[str, DocumentMeta]] | None = None
        self._add_ocr_column()

    def _add_ocr_column(self) -> None:
        """A manifest made before chunks said whether OCR read them gets the column (its
        chunks were all read from text layers)."""
        with contextlib.suppress(DataDiskFull), self.connection() as connection:
            if "ocr" not in self.database.columns(connection, "chunks"):
                connection.execute("ALTER TABLE chunks ADD COLUMN ocr INTEGER NOT NULL DEFAULT 0")

    # --- reads -----------------------------------------------------------------------------

    def generation(self) -> int:
        """Bumped by every change of what is live; caches compare against it."""
        with self.connection() as connection:
            row = connection.execute("SELECT value FROM state WHERE key='generation'").fetchone()
        return int(row["value"]) if row else 0

    def documents(self) -> list[StoredDocument]:
        """The live documents, by date. Read again only when the generation has moved: every
        search resolves its passages' papers, and an archive has thousands."""
        return list(self._live()[0])

    def _live(self) -> tuple[list[StoredDocument], dict[str, DocumentMeta]]:
        """The live documents and their metadata by id, as of the current generation."""
        generation = self.generation()  # first: a change after it is seen by the next call
        kept = self._documents
        if kept is None or kept[0] != generation:
            with self.connection() as connection:
                rows = connection.execute(
                    "SELECT * FROM documents ORDER BY date NULLS FIRST, doc_id"
                ).fetchall()
            documents = [StoredDocument(row) for row in rows]
            kept = (generation, documents, {doc.meta.doc_id: doc.meta for doc in documents})
            self._documents = kept
        return kept[1], kept[2]

    def document(self, doc_id: str) -> StoredDocument | None:
        with self.connection() as connection:
            row = connection.execute(
                "SELECT * FROM documents WHERE doc_id = ?", (doc_id,)
            ).fetchone()
        return StoredDocument(row) if row else None

    def live_chunks(self) -> list[Chunk]:
        """Every chunk of every live document, in document and reading order."""
        return self._chunks(
            f"SELECT c.{_CHUNK_COLUMNS.replace(', ', ', c.')} FROM chunks c JOIN documents d "
            "ON c.doc_id = d.doc_id AND c.version = d.version ORDER BY c.doc_id, c.ordinal",
            (),
        )

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        """The live chunks of one document, in reading order."""
        return self._chunks(
            f"SELECT c.{_CHUNK_COLUMNS.replace(', ', ', c.')} FROM chunks c JOIN documents d "
            "ON c.doc_id = d.doc_id AND c.version = d.version WHERE c.doc_id = ? "
            "ORDER BY c.ordinal",
            (doc_id,),
        )

    def chunks_by_id(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        ids = list(chunk_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        columns = ", ".join(f"c.{name.strip()}" for name in _CHUNK_COLUMNS.split(","))
        # Only chunks of live versions: a version staged but not yet published never leaks.
        chunks = self._chunks(
            f"SELECT {columns} FROM chunks c JOIN documents d "
            f"ON c.doc_id = d.doc_id AND c.version = d.version WHERE c.chunk_id IN ({marks})",
            tuple(ids),
        )
        return {chunk.chunk_id: chunk for chunk in chunks}

    def neighbours(self, chunk: Chunk, before: int = 1, after: int = 1) -> list[Chunk]:
        """The chunk with up to `before`/`after` chunks around it, in reading order."""
        return self._chunks(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE doc_id = ? AND version = ? "
            "AND ordinal BETWEEN ? AND ? ORDER BY ordinal",
            (chunk.doc_id, chunk.version, chunk.ordinal - before, chunk.ordinal + after),
        )

    def page_texts(self, doc_id: str, first: int | None = None) -> dict[int, str]:
        """The live version's page texts by number; `first`: only that many pages."""
        with self.connection() as connection:
            rows = connection.execute(
                "SELECT p.number, p.text FROM pages p JOIN documents d "
                "ON p.doc_id = d.doc_id AND p.version = d.version WHERE p.doc_id = ?"
                " AND p.number <= ?",
                (doc_id, first if first is not None else 2**31),
            ).fetchall()
        return {row["number"]: row["text"] for row in rows}

    def extraction(self, doc_id: str) -> str | None:
        """The live version's structured extraction (JSON), if it was stored."""
        with self.connection() as connection:
            row = connection.execute(
                "SELECT e.json FROM extractions e JOIN documents d "
                "ON e.doc_id = d.doc_id AND e.version = d.version WHERE e.doc_id = ?",
                (doc_id,),
            ).fetchone()
        return str(row["json"]) if row else None

    def store_extraction(self, doc_id: str, version: str, extraction_json: str) -> None:
        """Keep a version's extraction: staged before publish, or added to a live version."""
        with self.connection() as connection:
            connection.execute(
                "INSERT INTO extractions (doc_id, version, json) VALUES (?, ?, ?) "
                "ON CONFLICT (doc_id, version) DO UPDATE SET json = excluded.json",
                (doc_id, version, extraction_json),
            )

    def _chunks(self, sql: str, params: tuple[object, ...]) -> list[Chunk]:
        with self.connection() as connection:
            rows = connection.execute(sql, params).fetchall()
        if not rows:
            return []
        # the papers' metadata as kept for this generation: a map of an archive's thousands
        # made for each search cost more than the ~100 chunk rows it resolves
        _, metas = self._live()
        keys = rows[0].keys()  # a row iterates over its values
        return [
            Chunk(
                **dict(zip(keys, row, strict=True)) | {"ocr": bool(row["ocr"])},
                meta=metas[row["doc_id"]],
            )
            for row in rows
        ]

    # --- writes (only through ingest.index) -------------------------------------------------

    def stage(
        self, meta: DocumentMeta, version: str, pages: Iterable[Page], chunks: list[Chunk]
    ) -> None:
        """Write a version's pages and chunks without making them live."""
        with self.connection() as connection:
            connection.execute(
                "DELETE FROM chunks WHERE doc_id = ? AND version = ?", (meta.doc_id, version)
            )
            connection.execute(
                "DELETE FROM pages WHERE doc_id = ? AND version = ?", (meta.doc_id, version)
            )
            connection.executemany(
                f"INSERT INTO chunks ({_CHUNK_COLUMNS}) VALUES ({','.join('?' * 13)})",
                [
                    (c.chunk_id, c.doc_id, c.version, c.ordinal, c.text, c.page, c.page_end,
                     c.section, c.paragraph, c.kind, c.char_start, c.char_end, int(c.ocr))
                    for c in chunks
                ],
            )  # fmt: skip
            connection.executemany(
                "INSERT INTO pages (doc_id, version, number, text) VALUES (?, ?, ?, ?)",
                [(meta.doc_id, version, page.number, page.text) for page in pages],
            )

    def publish(
        self, meta: DocumentMeta, version: str, path: str, pages: int, chunk_count: int
    ) -> None:
        """Make a staged version live and drop every other version, in one transaction."""
        fields = asdict(meta)
        with self.connection() as connection:
            connection.execute(
                f"INSERT INTO documents ({', '.join(_DOCUMENT_COLUMNS)}) "
                f"VALUES ({','.join('?' * len(_DOCUMENT_COLUMNS))}) ON CONFLICT (doc_id) DO UPDATE "
                f"SET {', '.join(f'{name} = excluded.{name}' for name in _DOCUMENT_COLUMNS[1:])}",
                (
                    meta.doc_id, version, fields["source"], path, fields["title"],
                    fields["body"], fields["date"], fields["doc_type"], fields["access"],
                    fields["url"], pages, chunk_count, datetime.now(UTC).isoformat(),
                ),
            )  # fmt: skip
            self._drop_other_versions(connection, meta.doc_id, keep=version)
            self._bump(connection)

    def relocate(self, meta: DocumentMeta, path: str) -> bool:
        """Record a live document's new place, and what its new name and folder say of it
        (source, date, access…); its version, pages and chunks stay as they are."""
        fields = asdict(meta)
        with self.connection() as connection:
            updated = connection.execute(
                "UPDATE documents SET path = ?, source = ?, title = ?, body = ?, date = ?, "
                "doc_type = ?, access = ?, url = ? WHERE doc_id = ?",
                (
                    path, fields["source"], fields["title"], fields["body"], fields["date"],
                    fields["doc_type"], fields["access"], fields["url"], meta.doc_id,
                ),
            )  # fmt: skip
            self._bump(connection)
            return updated.rowcount > 0

    def remove(self, doc_id: str) -> bool:
        with self.connection() as connection:
            deleted = connection.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
            self._drop_other_versions(connection, doc_id, keep=None)
            self._bump(connection)
            return deleted.rowcount > 0

    def drop_unpublished(self) -> None:
        """Forget versions staged by a run that died before publishing them."""
        with self.connection() as connection:
            for table in ("chunks", "pages", "extractions"):
                connection.execute(
                    f"DELETE FROM {table} WHERE NOT EXISTS (SELECT 1 FROM documents d "
                    f"WHERE d.doc_id = {table}.doc_id AND d.version = {table}.version)"
                )

    @staticmethod
    def _drop_other_versions(connection: Any, doc_id: str, keep: str | None) -> None:
        for table in ("chunks", "pages", "extractions"):
            if keep is None:
                connection.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))
            else:
                connection.execute(
                    f"DELETE FROM {table} WHERE doc_id = ? AND version <> ?", (doc_id, keep)
                )

    @staticmethod
    def _bump(connection: Any) -> None:
        connection.execute(
            "INSERT INTO state (key, value) VALUES ('generation', '1') ON CONFLICT (key) "
            "DO UPDATE SET value = CAST(CAST(state.value AS INTEGER) + 1 AS TEXT)"
        )
