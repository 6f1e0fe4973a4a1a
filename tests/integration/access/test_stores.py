"""Keys kept only as hashes, refused once revoked or expired; the audit log append-only;
the rate limit's bucket."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.access.audit import AuditLog, AuditRow
from service.access.keys import KeyStore, UnknownKey
from service.access.limits import RateLimiter


def test_a_key_is_kept_only_as_its_hash_and_refused_once_revoked(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "access.sqlite3")
    assert not store.any_made()
    key, secret = store.create("Policy team", "officer")
    assert secret not in (tmp_path / "access.sqlite3").read_bytes().decode("latin-1")
    assert store.any_made()
    verified = store.verify(secret)
    assert verified is not None
    assert (verified.name, verified.role) == ("Policy team", "officer")
    assert store.verify(secret + "x") is None
    assert store.verify("not a key") is None
    assert [k.id for k in store.revoke(key.id)] == [key.id]
    assert store.verify(secret) is None
    assert store.all_keys()[0].state(datetime.now(UTC)) == "revoked"
    with pytest.raises(UnknownKey):
        store.revoke(key.id)  # already revoked: nothing left to revoke


def test_an_expired_key_is_refused(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "access.sqlite3")
    soon = datetime.now(UTC) + timedelta(hours=1)
    _, secret = store.create("Contractor", "public", expires_at=soon)
    assert store.verify(secret) is not None
    assert store.verify(secret, now=soon + timedelta(seconds=1)) is None


def _row(at: datetime, name: str = "Policy team") -> AuditRow:
    return AuditRow(at, "k1", name, "officer", "POST", "/ask", "Who chairs?", None,
                    {"minutes": [3]}, 200, 12.5)  # fmt: skip


def test_the_audit_log_is_append_only_and_forgets_by_age(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "access.sqlite3", retention_days=30)
    now = datetime.now(UTC)
    log.append(_row(now - timedelta(days=40), "Old team"))
    log.append(_row(now))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"), log.connection() as db:
        db.execute("UPDATE audit SET key_name = 'someone else'")
    # the row past retention went with the day's sweep as the next was written
    assert [(r.key_name, r.documents) for r in log.rows()] == [("Policy team", {"minutes": [3]})]
    assert log.forget_older_than_retention(now + timedelta(days=31)) == 1
    assert log.rows() == []


def test_the_rate_limit_refuses_past_the_rate_and_recovers() -> None:
    clock = [0.0]
    limiter = RateLimiter({"public": 2}, clock=lambda: clock[0])
    assert [limiter.wait_needed("k", "public") for _ in range(2)] == [0.0, 0.0]
    assert limiter.wait_needed("k", "public") == pytest.approx(30.0)
    assert limiter.wait_needed("other", "public") == 0.0  # per caller
    clock[0] = 30.0
    assert limiter.wait_needed("k", "public") == 0.0
    assert limiter.wait_needed("k", "admin") == 0.0  # a role with no limit
