"""State in a shared PostgreSQL database (`BOARDPAPERS_DATABASE_URL`, issue 21): every store
keeps its rows there, a second replica's stores read what the first wrote, writers of all
replicas take turns, and a database that cannot be reached is named with what to do.

A real PostgreSQL (tests/postgres_server.py), a fresh database per test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from papers import make_pdf

from ingest.pipeline import Outcome, ingest_paths
from ingest.store.embeddings import BundledEmbeddings
from ingest.store.postgres import DatabaseUnreachable
from ingest.sync import SyncBusyError, sync_lock
from service.access.audit import AuditRow
from service.cli.subprocess_server import free_port
from service.container import build_app_stores, build_services
from service.conversations import Turn
from service.settings import Settings
from service.summaries import DocumentSummary


def _replica(data_dir: Path, url: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=url)


def test_every_store_keeps_its_rows_in_the_shared_database(
    tmp_path: Path, postgres_database: str, embeddings: BundledEmbeddings
) -> None:
    first = build_services(_replica(tmp_path / "a", postgres_database), embeddings=embeddings)
    (tmp_path / "papers").mkdir()
    paper = make_pdf(tmp_path / "papers" / "library-report.pdf", "library")
    report = ingest_paths([paper.parent], first.index)
    assert [f.outcome for f in report.files] == [Outcome.ADDED]
    stores = build_app_stores(first.settings, first)
    key, secret = stores.gate.keys.create("officer", "public")
    conversation = stores.conversations.start(key.id)
    stores.conversations.add_turn(conversation, Turn("Who?", "Who?", "Nobody.", answered=True))
    stores.audit.append(
        AuditRow(datetime.now(UTC), key.id, "officer", "public", "POST", "/ask", "Who?", None,
                 {"library-report": [1]}, 200, 12.5)
    )  # fmt: skip
    doc_id = report.files[0].doc_id
    assert doc_id is not None
    version = first.index.version_of(doc_id)
    assert version is not None
    summary = DocumentSummary(
        doc_id, version, "extractive", title="Library report", body="Cabinet", date=None,
        doc_type="report", meeting=None, pages=2, purpose=None, warnings=["a test's summary"],
    )  # fmt: skip
    stores.summaries.put(summary)

    # Nothing of it is in the data folder: a second replica, with a folder of its own, reads it.
    assert not list((tmp_path / "a").glob("*.sqlite3"))
    second = build_services(_replica(tmp_path / "b", postgres_database), embeddings=embeddings)
    assert [d.meta.doc_id for d in second.index.documents()] == [doc_id]
    assert second.index.manifest.generation() == first.index.manifest.generation()
    assert len(second.index.keyword_index()) == report.files[0].chunks
    others = build_app_stores(second.settings, second)
    assert others.gate.keys.verify(secret) == key
    assert others.conversations.exists(conversation, key.id)
    assert [t.answer for t in others.conversations.turns(conversation)] == ["Nobody."]
    assert [(r.key_name, r.documents) for r in others.audit.rows()] == [
        ("officer", {"library-report": [1]})
    ]
    assert others.summaries.get(doc_id, version, "extractive") == summary

    with pytest.raises(psycopg.Error, match="append-only"), others.audit.connection() as rows:
        rows.execute("UPDATE audit SET key_name = ?", ("someone else",))

    # Removed through the second replica: gone for the first at once.
    assert second.index.remove_document(doc_id)
    assert first.index.documents() == []
    assert first.index.manifest.generation() == second.index.manifest.generation()


def test_writers_of_every_replica_take_turns(tmp_path: Path, postgres_database: str) -> None:
    with (
        sync_lock(tmp_path / "a", database_url=postgres_database),
        pytest.raises(SyncBusyError, match="another replica is ingesting"),
        sync_lock(tmp_path / "b", database_url=postgres_database),
    ):
        pass
    with sync_lock(tmp_path / "b", database_url=postgres_database):  # free again
        pass


def test_a_database_that_cannot_be_reached_is_named_without_its_password(
    tmp_path: Path,
) -> None:
    url = f"postgresql://officer:hunter2@127.0.0.1:{free_port()}/boardpapers"
    with pytest.raises(DatabaseUnreachable) as raised:
        build_services(_replica(tmp_path / "a", url))
    message = str(raised.value)
    assert "hunter2" not in message
    assert "officer:***@127.0.0.1" in message
    assert "BOARDPAPERS_DATABASE_URL" in message


def test_a_setting_that_is_not_a_postgresql_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="database_url"):
        Settings(data_dir=tmp_path, database_url="mysql://somewhere/boardpapers")
