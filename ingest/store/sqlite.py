"""A store's tables in a SQLite file (the embedded default), used from many threads: one
connection per thread, WAL so readers never wait for a writer, and each
`with store.connection()` block one transaction.

On a full disk a WAL file cannot be opened the usual way (its 32 KiB shared-memory index needs
room); the block then gets a connection of its own in exclusive locking mode, which keeps that
index in memory, closed when the block ends so writers elsewhere are not locked out. A write
that fails for want of room raises `DataDiskFull`.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.store.database import Schema
from ingest.store.disk_full import DataDiskFull, is_disk_full

log = logging.getLogger(__name__)


class SQLiteDatabase:
    def __init__(self, path: Path, schema: Schema) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._schema: str | None = schema.tables + schema.sqlite
        try:
            self._create()
        except DataDiskFull:
            # A new file on a full disk: the store opens all the same, and each use tries
            # again to make the file (raising DataDiskFull until there is room).
            log.warning("%s is not made yet: the data folder's disk is full", path)

    def _create(self) -> None:
        with self.connection(creating=True) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(self._schema or "")
        self._schema = None

    @contextmanager
    def connection(self, *, creating: bool = False) -> Iterator[sqlite3.Connection]:
        if self._schema is not None and not creating:
            self._create()  # raises DataDiskFull while there is still no room
        nested = getattr(self._local, "alone", None)
        if nested is not None:  # a block inside this thread's own connection of its own
            yield nested
            return
        # One connection per thread: FastAPI runs sync routes in a thread pool.
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._shared()
        if connection is not None:
            self._local.connection = connection
            with self._translated(), connection:
                yield connection
            return
        alone = self._alone()
        self._local.alone = alone
        try:
            with self._translated(), alone:
                yield alone
        finally:
            del self._local.alone
            with contextlib.suppress(sqlite3.Error):  # its checkpoint may want room
                alone.close()

    def columns(self, connection: sqlite3.Connection, table: str) -> set[str]:
        return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}

    def never_written(self) -> bool:
        """No file, or an empty one (a disk full when the store was opened)."""
        return not self.path.exists() or self.path.stat().st_size == 0

    def _shared(self) -> sqlite3.Connection | None:
        """A connection as usual; None when the disk has no room for it."""
        connection = self._connect()
        try:
            connection.execute("PRAGMA schema_version").fetchone()  # opens the WAL
        except sqlite3.OperationalError as error:
            connection.close()
            if is_disk_full(error, self.path.parent):
                return None
            raise
        return connection

    def _alone(self) -> sqlite3.Connection:
        connection = self._connect()
        # Before the first read: the WAL index then lives in this connection's memory.
        connection.execute("PRAGMA locking_mode=EXCLUSIVE")
        return connection

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30)
        connection.row_factory = sqlite3.Row
        # off by default in SQLite, per connection; ON DELETE CASCADE needs it
        connection.execute("PRAGMA foreign_keys = ON")
        return connection

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as error:
            if is_disk_full(error, self.path.parent):
                raise DataDiskFull() from error
            raise
