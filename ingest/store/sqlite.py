"""A SQLite file used from many threads: one connection per thread, WAL so readers never
wait for a writer, and each `with store.connection()` block one transaction."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SQLiteStore:
    def __init__(self, path: Path, schema: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        with self.connection() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(schema)

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        # One connection per thread: FastAPI runs sync routes in a thread pool.
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30)
            connection.row_factory = sqlite3.Row
            # off by default in SQLite, per connection; ON DELETE CASCADE needs it
            connection.execute("PRAGMA foreign_keys = ON")
            self._local.connection = connection
        with connection:
            yield connection
