"""The index's size, read from the manifest when Prometheus scrapes: ingest and sync run in
other processes, so only what they wrote tells how many papers are live and when one last
went live."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ingest.store.index import PaperIndex


class IndexCollector(Collector):
    def __init__(self, index: PaperIndex) -> None:
        self.index = index

    def collect(self) -> Iterator[Metric]:
        documents = self.index.documents()
        yield GaugeMetricFamily(
            "boardpapers_index_documents", "Papers live in the index.", value=len(documents)
        )
        yield GaugeMetricFamily(
            "boardpapers_index_pages",
            "Pages of the live papers.",
            value=sum(document.pages for document in documents),
        )
        yield GaugeMetricFamily(
            "boardpapers_index_chunks",
            "Passages (chunks) of the live papers, each searched by both retrievers.",
            value=sum(document.chunk_count for document in documents),
        )
        if documents:
            last = max(datetime.fromisoformat(document.ingested_at) for document in documents)
            yield GaugeMetricFamily(
                "boardpapers_index_last_ingest_timestamp_seconds",
                "When the most recently ingested live paper went live (Unix time).",
                value=last.timestamp(),
            )
        yield CounterMetricFamily(
            "boardpapers_index_changes",
            "Changes to what is live (a paper added, replaced, moved, restated or removed by"
            " ingest, sync or remove) since the index was made.",
            value=self.index.manifest.generation(),
        )
