"""Reading on, and writing nothing, while the data folder's disk is full.

Reads need no new space in principle, but two of the stores ask for a little when they open: a
SQLite file in WAL mode makes a 32 KiB shared-memory index beside itself (`sqlite.SQLiteDatabase`
reads without one then), and Chroma records every opening of its store in its own SQLite file
(`index.PaperIndex` then reads a copy of the store, made in the temporary folder). A write fails
with `DataDiskFull`, which says what to do.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import sqlite3
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

DISK_FULL = "the data folder's disk is full: free space and run sync again"

# Free space under which a failed write or open is taken as the disk being full: SQLite's
# shared-memory index is 32 KiB and Chroma's journal a few pages.
ROOM = 1 << 20
# How often a copy in use looks whether the store itself can be opened again.
_RETRY_SECONDS = 30.0

_SQLITE_FULL = 13
_SQLITE_IOERR = 10


class DataDiskFull(OSError):
    """A write to the data folder failed, or would, because its disk is full."""

    def __init__(self, message: str = DISK_FULL) -> None:
        super().__init__(errno.ENOSPC, message)

    def __str__(self) -> str:
        return str(self.strerror)


def has_room(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free >= ROOM
    except OSError:
        return True  # no folder yet: whatever fails next says why


def is_disk_full(error: BaseException, folder: Path) -> bool:
    """Whether `error` (SQLite's, Chroma's or the system's) came of `folder`'s disk being full."""
    if isinstance(error, DataDiskFull):
        return True
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if isinstance(error, sqlite3.Error):
        code = (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF
        # An I/O error is how SQLite reports a shared-memory index it could not grow.
        return code == _SQLITE_FULL or (code == _SQLITE_IOERR and not has_room(folder))
    text = str(error)
    return "database or disk is full" in text or "No space left on device" in text


class ChromaCopy:
    """A copy of a Chroma folder in the temporary folder, for reading while the data folder's
    disk is full (Chroma cannot open its store there); removed when no longer used, or at exit."""

    def __init__(self, chroma_path: Path) -> None:
        files = [p for p in chroma_path.rglob("*") if p.is_file() and "-journal" not in p.name]
        needed = sum(p.stat().st_size for p in files) + ROOM
        place = _temporary_folder_with(needed)
        if place is None:
            raise DataDiskFull(
                f"{DISK_FULL} (the temporary folder has no room for a copy to read from either)"
            )
        self.path = Path(tempfile.mkdtemp(prefix="boardpapers-chroma-copy-", dir=place))
        self._source = chroma_path
        self._made_at = time.monotonic()
        self._remove = weakref.finalize(self, shutil.rmtree, self.path, True)
        try:
            for source in files:
                target = self.path / source.relative_to(chroma_path)
                target.parent.mkdir(parents=True, exist_ok=True)
                if source.name == "chroma.sqlite3":
                    _copy_sqlite(source, target)
                else:
                    shutil.copy2(source, target)
        except (OSError, sqlite3.Error):
            self.remove()
            raise

    def worth_leaving(self) -> bool:
        """Whether the store itself may open again: there is room, and the copy is not new
        (when opening fails all the same, a copy is not made on every call)."""
        return time.monotonic() - self._made_at >= _RETRY_SECONDS and has_room(self._source)

    def remove(self) -> None:
        self._remove()


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite file another process may be writing to."""
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as reading,
        contextlib.closing(sqlite3.connect(target)) as writing,
    ):
        reading.backup(writing)


def _temporary_folder_with(needed: int) -> Path | None:
    for place in (Path(tempfile.gettempdir()), Path("/dev/shm")):
        with contextlib.suppress(OSError):
            if shutil.disk_usage(place).free >= needed:
                return place
    return None


class ReadOnlyCollection:
    """A Chroma collection read from a `ChromaCopy`: a write would be lost with the copy (and
    the manifest would then name vectors the store does not hold), so none is made."""

    _WRITES = frozenset({"add", "upsert", "update", "delete", "modify"})

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        if name in self._WRITES:
            return _refuse_write
        return getattr(self._collection, name)


def _refuse_write(*_: Any, **__: Any) -> Any:
    raise DataDiskFull()
