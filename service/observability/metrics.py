"""The service's Prometheus metrics, made by the standard client library.

Each app has its own registry (tests build many apps in one process). Under
`boardpapers serve --workers N` each worker process writes its counts to files in a folder the
command made (`PROMETHEUS_MULTIPROC_DIR`, the client library's multiprocess mode), and whichever
worker answers a scrape sums them all: one scrape target shows the whole server. The process's
own figures (memory, CPU) are then left out, since they would be one worker's.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated

from fastapi import Depends, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from ingest.store.index import PaperIndex
from service.observability.index_metrics import IndexCollector

MULTIPROCESS_FOLDER = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# Seconds: a warm search takes tens of milliseconds, an LLM's answer up to its timeout (60 s).
DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """Every instrument the service records into, and the text a scrape gets."""

    def __init__(self, index: PaperIndex) -> None:
        self.registry = CollectorRegistry()
        labels = ("method", "route", "status")
        self.requests = Counter(
            "boardpapers_http_requests",
            "HTTP requests answered, by method, route template and status.",
            labels,
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "boardpapers_http_request_duration_seconds",
            "Seconds from a request's arrival to its response's last byte (a streamed answer's"
            " last event), by method, route template and status.",
            labels,
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.retrieval_seconds = Histogram(
            "boardpapers_retrieval_duration_seconds",
            "Seconds spent finding passages (a theme scan on /themes), by route.",
            ("route",),
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.answer_seconds = Histogram(
            "boardpapers_answer_duration_seconds",
            "Seconds spent writing an answer from its passages, by route (streamed: until the"
            " last piece is sent).",
            ("route",),
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.work_slot_rejections = Counter(
            "boardpapers_work_slot_rejections",
            "Requests turned away with 503 because no work slot came free in time.",
            registry=self.registry,
        )
        self._scraped = self._scrape_registry(index)

    def _scrape_registry(self, index: PaperIndex) -> CollectorRegistry:
        if os.environ.get(MULTIPROCESS_FOLDER):
            every_worker = CollectorRegistry()
            MultiProcessCollector(every_worker)
            every_worker.register(IndexCollector(index))
            return every_worker
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.registry.register(IndexCollector(index))
        return self.registry

    def retrieval(self, route: str) -> AbstractContextManager[object]:
        """Times the passages' retrieval for `route` (its template, e.g. "/search")."""
        return self.retrieval_seconds.labels(route=route).time()

    def answer(self, route: str) -> AbstractContextManager[object]:
        """Times the answer's writing for `route`."""
        return self.answer_seconds.labels(route=route).time()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = {"method": method, "route": route, "status": str(status)}
        self.requests.labels(**labels).inc()
        self.request_seconds.labels(**labels).observe(seconds)

    def exposition(self) -> bytes:
        """The scrape's text (Prometheus exposition format)."""
        return generate_latest(self._scraped)


@contextmanager
def shared_by_workers() -> Iterator[None]:
    """A fresh folder for worker processes' counts, named in the environment they inherit,
    removed when they have stopped. One already named (a process manager's) is kept."""
    if os.environ.get(MULTIPROCESS_FOLDER):
        yield
        return
    folder = tempfile.mkdtemp(prefix="boardpapers-metrics-")
    os.environ[MULTIPROCESS_FOLDER] = folder
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_FOLDER]
        shutil.rmtree(folder, ignore_errors=True)


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


MetricsDep = Annotated[Metrics, Depends(get_metrics)]
