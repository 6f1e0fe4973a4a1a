"""Reading files ahead of the embedder: results in the order asked, at most `depth` ahead.

With `workers` > 0 the files are read in worker processes while the ingest process embeds
and writes; with 0, each is read when its result is wanted. Workers start by `forkserver`
(never `fork`: the ingest process runs torch's threads, which a forked child would inherit
half-held) and load only the tokenizer. A worker that dies (a reader crashing on a file)
fails the file it was reading; the pool is started again for the rest (twice at most, then
the rest is read in this process, as it is where no worker process can start). A worker
whose ingest process is gone, even by SIGKILL, ends too.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from types import TracebackType

from ingest.parsing import ReadRequest, ReadResult, WordPieceCounter, approximate_tokens, read_paper
from ingest.reading.chunking import TokenCounter

log = logging.getLogger(__name__)

_worker_counter: TokenCounter = approximate_tokens  # set in each worker as it starts
# Pools started again after a worker died, before the rest is read in this process.
_RESTARTS = 2


def _start_worker(count_tokens: TokenCounter, ingest_alive: Connection) -> None:
    global _worker_counter
    _worker_counter = count_tokens
    threading.Thread(target=_end_with_ingest, args=(ingest_alive,), daemon=True).start()


def _end_with_ingest(ingest_alive: Connection) -> None:
    """Wait on a pipe whose only writing end the ingest process holds: it closes when the
    ingest ends, however it ends (SIGKILL too), and the reader ends with it rather than
    waiting for work that never comes while holding the ingest's output open (cron waits)."""
    with contextlib.suppress(EOFError, OSError):
        ingest_alive.recv()
    os._exit(0)


def _read_in_worker(request: ReadRequest) -> ReadResult:
    return read_paper(request, _worker_counter)


class ParseAhead:
    """Reads files for the ingest, ahead of it when it has workers. Use as a context manager:
    leaving it stops the workers."""

    def __init__(self, count_tokens: TokenCounter, *, workers: int = 0, depth: int = 4) -> None:
        # Only a counter that pickles small can go to a worker: the tokenizer's folder, or
        # the estimate. Any other (an embedder's own method) reads in this process.
        portable = isinstance(count_tokens, WordPieceCounter) or count_tokens is approximate_tokens
        self.count_tokens = count_tokens
        self.workers = workers if portable else 0
        self.depth = max(depth, self.workers) if self.workers else 1
        self._pool: ProcessPoolExecutor | None = None
        self._alive: Connection | None = None  # the writing end of the workers' pipe
        self._restarts = 0

    def __enter__(self) -> ParseAhead:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop_pool()

    def results(self, requests: Iterable[ReadRequest]) -> Iterator[ReadResult]:
        """Each request's reading, in the order of `requests`."""
        waiting = iter(requests)
        in_flight: deque[tuple[ReadRequest, Future[ReadResult]]] = deque()
        while True:
            while len(in_flight) < self.depth:
                following = next(waiting, None)
                if following is None:
                    break
                in_flight.append((following, self._submit(following)))
            if not in_flight:
                return
            request, future = in_flight.popleft()
            try:
                yield future.result()
            except BrokenProcessPool:
                # The oldest reading is the one the worker died on (one worker takes requests
                # in order); the others are read again, by a fresh pool while restarts last.
                log.error("the process reading %s died", request.path)
                yield ReadResult(failed="its reader process died while reading it")
                self._stop_pool()
                self._restarts += 1
                if self._restarts > _RESTARTS:
                    self.workers = 0
                again = [pending for pending, _ in in_flight]
                in_flight.clear()
                in_flight.extend((pending, self._submit(pending)) for pending in again)

    def _submit(self, request: ReadRequest) -> Future[ReadResult]:
        if self.workers and self._pool is None:
            try:
                reading_end, self._alive = multiprocessing.Pipe(duplex=False)
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("forkserver"),
                    initializer=_start_worker,
                    initargs=(self.count_tokens, reading_end),
                )
            except (OSError, NotImplementedError) as error:  # no semaphores, no forkserver
                log.warning("reading files in this process: no worker process (%s)", error)
                self.workers = 0
        if self._pool is not None and self.workers:
            return self._pool.submit(_read_in_worker, request)
        done: Future[ReadResult] = Future()  # read here, when its result is wanted
        done.set_result(read_paper(request, self.count_tokens))
        return done

    def _stop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._alive is not None:
            self._alive.close()
            self._alive = None
