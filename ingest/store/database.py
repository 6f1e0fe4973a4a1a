"""Where our own state lives (the manifest, keys, audit log, conversations, summaries): a
SQLite file in the data folder, the embedded default, or one PostgreSQL database that every
replica shares (`BOARDPAPERS_DATABASE_URL`).

A store writes its SQL once, in the dialect both understand: `?` placeholders, upserts as
`INSERT … ON CONFLICT … DO UPDATE`, TEXT/INTEGER/REAL columns. Each `with store.connection()`
block is one transaction, committed at its end or rolled back on an error. What differs (an
autoincrement key, a trigger, the placeholder) is the backend's business.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class Schema:
    """A store's tables. `tables` is the common dialect; `sqlite` and `postgresql` hold what
    only one of them says (a trigger), run after it."""

    tables: str
    sqlite: str = ""
    postgresql: str = ""


class Database(Protocol):
    def connection(self) -> AbstractContextManager[Any]:
        """One transaction: rows read by position or by column name."""
        ...

    def columns(self, connection: Any, table: str) -> set[str]:
        """The names of a table's columns (to add one a store gained since)."""
        ...

    def never_written(self) -> bool:
        """Whether nothing was ever stored (no file yet): a read can answer without looking."""
        ...


def is_database_url(where: Path | str) -> bool:
    return isinstance(where, str) and where.startswith(("postgresql://", "postgres://"))


def open_database(where: Path | str, schema: Schema) -> Database:
    """A SQLite file at `where`, or the PostgreSQL database a `postgresql://` URL names."""
    if is_database_url(where):
        from ingest.store.postgres import PostgresDatabase

        return PostgresDatabase(str(where), schema)
    from ingest.store.sqlite import SQLiteDatabase

    return SQLiteDatabase(Path(where), schema)


class Store:
    """The base of every store: its tables, in the database `where` names."""

    def __init__(self, where: Path | str, schema: Schema) -> None:
        self.database = open_database(where, schema)

    def connection(self) -> AbstractContextManager[Any]:
        return self.database.connection()
