"""Many users of a thing at once, or one that replaces it: a readers-writer lock.

The embedded Chroma client answers queries side by side (its search runs in Rust without the
interpreter's lock); only re-opening it, when another process changed what is live, needs it
to itself. A plain lock around every query made eight clients' searches queue one by one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class SharedUse:
    """`shared()` blocks run side by side; an `exclusive()` block waits for those running to
    finish and runs alone. A waiting exclusive holds back new shared users (else a steady stream
    of queries would keep it waiting for ever), except a thread already inside a shared block,
    which would otherwise wait on itself."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._users = 0
        self._exclusive = False
        self._waiting = 0  # exclusive users waiting for their turn
        self._mine = threading.local()  # this thread's depth of shared blocks

    @contextmanager
    def shared(self) -> Iterator[None]:
        depth: int = getattr(self._mine, "depth", 0)
        with self._changed:
            while self._exclusive or (self._waiting and not depth):
                self._changed.wait()
            self._users += 1
        self._mine.depth = depth + 1
        try:
            yield
        finally:
            self._mine.depth = depth
            with self._changed:
                self._users -= 1
                if not self._users:
                    self._changed.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._changed:
            self._waiting += 1
            try:
                while self._exclusive or self._users:
                    self._changed.wait()
            finally:
                self._waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            with self._changed:
                self._exclusive = False
                self._changed.notify_all()
