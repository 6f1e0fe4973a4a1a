"""The readers-writer lock around the embedded Chroma client (ingest/store/shared_use.py)."""

from __future__ import annotations

import threading
import time

from ingest.store.shared_use import SharedUse

WAIT = 5.0  # seconds: far longer than any step here takes, short enough to fail fast


def test_shared_users_run_side_by_side() -> None:
    use = SharedUse()
    both_inside = threading.Barrier(2, timeout=WAIT)
    errors: list[BaseException] = []

    def user() -> None:
        try:
            with use.shared():
                both_inside.wait()  # breaks (an error) if the other cannot get in meanwhile
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=user, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert errors == []


def test_exclusive_waits_for_shared_users_and_holds_new_ones_back() -> None:
    use = SharedUse()
    order: list[str] = []
    inside = threading.Event()
    leave = threading.Event()

    def reader() -> None:
        with use.shared():
            inside.set()
            leave.wait(WAIT)
            order.append("reader leaves")

    def writer() -> None:
        with use.exclusive():
            order.append("writer in")

    def late_reader() -> None:
        with use.shared():
            order.append("late reader in")

    first = threading.Thread(target=reader, daemon=True)
    first.start()
    assert inside.wait(WAIT)
    second = threading.Thread(target=writer, daemon=True)
    second.start()
    time.sleep(0.2)  # the writer is waiting now
    third = threading.Thread(target=late_reader, daemon=True)
    third.start()
    time.sleep(0.2)
    assert order == []  # the writer waits for the reader; the late reader for the writer
    leave.set()
    for thread in (first, second, third):
        thread.join(WAIT)
    assert order == ["reader leaves", "writer in", "late reader in"]


def test_a_thread_already_inside_enters_again_while_a_writer_waits() -> None:
    use = SharedUse()
    inside = threading.Event()
    nested = threading.Event()

    def reader() -> None:
        with use.shared():
            inside.set()
            time.sleep(0.2)  # the writer is waiting by now
            with use.shared():
                nested.set()

    def writer() -> None:
        inside.wait(WAIT)
        with use.exclusive():
            pass

    threads = [
        threading.Thread(target=reader, daemon=True),
        threading.Thread(target=writer, daemon=True),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert nested.is_set()
    assert not any(thread.is_alive() for thread in threads)
