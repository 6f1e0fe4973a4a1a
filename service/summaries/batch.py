"""`boardpapers summarise`: summaries of many papers, written to a folder with a digest.

A paper's stored summary is reused while its version is live, so a nightly run costs only
the new and changed papers. One paper failing is reported and the rest carry on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ingest.store.index import PaperIndex
from service.summaries import DocumentSummary, Summariser
from service.summaries.render import digest_markdown, summary_markdown
from service.summaries.store import SummaryStore

log = logging.getLogger(__name__)


@dataclass
class BatchReport:
    summaries: list[DocumentSummary] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)  # doc ids whose stored summary was current
    failed: dict[str, str] = field(default_factory=dict)  # doc id → reason
    digest: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


def stored_or_new(
    doc_id: str, index: PaperIndex, summariser: Summariser, store: SummaryStore
) -> tuple[DocumentSummary, bool]:
    """The live version's summary, and whether it was already stored."""
    version = index.version_of(doc_id)
    if version is None:
        raise KeyError(doc_id)
    stored = store.get(doc_id, version, summariser.mode)
    if stored is not None:
        return stored, True
    summary = summariser.summarise(doc_id)
    if index.version_of(doc_id) == summary.version:  # not replaced while we worked
        store.put(summary)
    return summary, False


def select_documents(
    index: PaperIndex,
    store: SummaryStore,
    mode: str,
    *,
    doc_ids: Sequence[str] = (),
    new: bool = False,
    since: str | None = None,
) -> list[str]:
    """The papers a run covers: those named (else all), dated on or after `since`, and with
    `new`, only those without a stored summary of their current version."""
    documents = index.documents()
    if doc_ids:
        wanted = set(doc_ids)
        documents = [d for d in documents if d.meta.doc_id in wanted]
    if since:
        documents = [d for d in documents if d.meta.date and d.meta.date >= since]
    if new:
        documents = [d for d in documents if not store.has(d.meta.doc_id, d.version, mode)]
    return [d.meta.doc_id for d in documents]


def summarise_documents(
    doc_ids: Sequence[str],
    index: PaperIndex,
    summariser: Summariser,
    store: SummaryStore,
    out_dir: Path,
    *,
    progress: bool = False,
) -> BatchReport:
    out_dir.mkdir(parents=True, exist_ok=True)
    report = BatchReport()
    bar = tqdm(doc_ids, desc="Summarising", unit="paper", disable=not progress, leave=True)
    for doc_id in bar:
        bar.set_postfix_str(doc_id[-40:], refresh=False)
        try:
            summary, reused = stored_or_new(doc_id, index, summariser, store)
            (out_dir / f"{doc_id}.md").write_text(summary_markdown(summary), encoding="utf-8")
            (out_dir / f"{doc_id}.json").write_text(
                json.dumps(summary.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
            )
        except KeyError:
            report.failed[doc_id] = "no such document (`boardpapers documents` lists them)"
            continue
        except Exception as exc:  # one paper must not stop the run; the report carries it
            log.exception("summary failed for %s", doc_id)
            report.failed[doc_id] = f"{type(exc).__name__}: {exc}"
            continue
        report.summaries.append(summary)
        if reused:
            report.reused.append(doc_id)
    report.digest = out_dir / "digest.md"
    report.digest.write_text(digest_markdown(report.summaries), encoding="utf-8")
    return report
