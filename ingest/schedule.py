"""Scheduled sync: a round every interval (`--every 15m`), or soon after a watched folder
changes (`--watch`), until SIGTERM or SIGINT.

The schedule only says when a round is due; the round itself (a `sync_folders` under the sync
lock, and its report) is the caller's. A round that raises is reported and the schedule goes
on: a broken share or a busy lock must not end a service that runs for months. A stop signal
is honoured between rounds, never inside one, so the index is never left mid-paper.

Watching is a cheap poll of names, sizes and modification times (no inotify: it misses
changes on network shares anyway). A change is synced once the folder has been still for the
settle time, so a paper still being copied in is not read half-written.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
_INTERVAL = re.compile(r"(?:\d+(?:\.\d+)?[smh])+")
_INTERVAL_PART = re.compile(r"(\d+(?:\.\d+)?)([smh])")
# Longest pause between two looks at a watched folder: a stat of each file is cheap.
MAX_POLL_SECONDS = 2.0
# How long a watched folder must stay unchanged before a round reads it.
SETTLE_SECONDS = 5.0

# (folder, path within it, size, modification time in ns) of each file under the folders
FolderState = frozenset[tuple[str, str, int, int]]


class IntervalError(ValueError):
    """An interval that is not a positive number of seconds, minutes or hours."""


def parse_interval(text: str) -> float:
    """Seconds in an interval such as "30s", "15m", "1h" or "1h30m"."""
    spoken = text.strip().lower()
    if not _INTERVAL.fullmatch(spoken):
        raise IntervalError(
            f"'{text}' is not an interval: give a number with s, m or h, e.g. 30s, 15m, 1h"
        )
    seconds = sum(
        float(amount) * _UNIT_SECONDS[unit] for amount, unit in _INTERVAL_PART.findall(spoken)
    )
    if seconds <= 0:
        raise IntervalError(f"'{text}' is no time at all: give one longer than 0, e.g. 15m")
    return seconds


def folder_state(folders: Sequence[Path]) -> FolderState:
    """Every visible file under `folders` with its size and modification time: any paper
    added, changed, renamed or removed changes it. Hidden files and folders (an rsync or a
    browser's partial download, .git) are left out until they take their real name."""
    state: set[tuple[str, str, int, int]] = set()
    for folder in folders:
        for directory, folder_names, file_names in os.walk(folder):  # links not followed
            folder_names[:] = [name for name in folder_names if not name.startswith(".")]
            for name in file_names:
                if name.startswith(".") or name.startswith("~$"):  # Word's lock file
                    continue
                path = Path(directory, name)
                try:
                    stat = path.stat()  # a link's target: its change is the paper's change
                except OSError:  # gone since the walk listed it, or a dangling link
                    continue
                relative = str(path.relative_to(folder))
                state.add((str(folder), relative, stat.st_size, stat.st_mtime_ns))
    return frozenset(state)


class Every:
    """A round now, then one each `seconds` from the start of the last; a round that runs
    over is followed by the next at once, never by a pile of them."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def due(self, stop: threading.Event) -> Iterator[None]:
        while not stop.is_set():
            started = time.monotonic()
            yield
            if stop.wait(max(0.0, started + self.seconds - time.monotonic())):
                return


class Watch:
    """A round now, then one each time the files under `folders` change and then stay still
    for `settle` seconds."""

    def __init__(self, folders: Sequence[Path], settle: float) -> None:
        self.folders = list(folders)
        self.settle = settle
        self.poll = min(MAX_POLL_SECONDS, settle / 2)

    def due(self, stop: threading.Event) -> Iterator[None]:
        synced = folder_state(self.folders)  # taken before the round: a change during it counts
        yield
        while not stop.wait(self.poll):
            seen = folder_state(self.folders)
            if seen == synced:
                continue
            still = self._settled(seen, stop)
            if still is None:
                return
            synced = still
            yield

    def _settled(self, seen: FolderState, stop: threading.Event) -> FolderState | None:
        """The folders' state once it has not changed for `settle` seconds; None on stop."""
        still_since = time.monotonic()
        while time.monotonic() - still_since < self.settle:
            if stop.wait(self.poll):
                return None
            now = folder_state(self.folders)
            if now != seen:  # still being copied, or more papers arriving
                seen, still_since = now, time.monotonic()
        return seen


Trigger = Every | Watch


def run_schedule(
    trigger: Trigger,
    sync_round: Callable[[], object],
    on_error: Callable[[Exception], None],
    stop: threading.Event,
) -> int:
    """Run `sync_round` each time `trigger` says, until `stop` is set; a round that raises is
    passed to `on_error` and the schedule goes on. Returns the rounds run."""
    rounds = 0
    for _ in trigger.due(stop):
        rounds += 1
        try:
            sync_round()
        except Exception as error:  # any failure of one round: the next may well succeed
            on_error(error)
    return rounds


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM (`docker stop`) or SIGINT (Ctrl-C): the schedule ends after
    the round under way. A second signal stops the process at once."""
    stop = threading.Event()
    stopping = (signal.SIGTERM, signal.SIGINT)

    def handle(signum: int, frame: FrameType | None) -> None:
        # Set from a thread: the handler may interrupt `stop.wait` holding the event's own
        # lock, and setting the event here would wait for that lock for ever.
        threading.Thread(target=stop.set, daemon=True).start()
        signal.signal(signum, signal.SIG_DFL)  # asked twice: do not wait for the round

    previous = {signum: signal.signal(signum, handle) for signum in stopping}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
