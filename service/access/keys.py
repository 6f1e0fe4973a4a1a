"""API keys: one per person or system, each with a role, stored only as a hash.

A key is shown once, when made. It is 32 random bytes, so a plain SHA-256 of it is safe to keep
(nothing to guess) and quick to look up on every request. A key may be limited to web origins
(the chat widget's key, which any visitor's browser can read, works only from those pages)
and may expire; a revoked key stays listed, refused.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.store.database import Schema, Store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    origins TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);
"""
KEY_PREFIX = "bp_"


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    role: str
    origins: tuple[str, ...]  # empty: usable from anywhere
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def listing(self, now: datetime) -> dict[str, Any]:
        """What `keys list` and `GET /admin/keys` show of the key: never its secret."""
        return {
            "id": self.id, "name": self.name, "role": self.role, "state": self.state(now),
            "origins": list(self.origins),
            "created": self.created_at.isoformat(timespec="seconds"),
            "expires": self.expires_at.isoformat(timespec="seconds") if self.expires_at else None,
        }  # fmt: skip

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.usable(now) else "expired"


class UnknownKey(LookupError):
    pass


class KeyStore(Store):
    """The keys, in `data_dir / "access.sqlite3"` or the shared database."""

    def __init__(self, where: Path | str) -> None:
        super().__init__(where, Schema(_SCHEMA))

    def create(
        self,
        name: str,
        role: str,
        *,
        expires_at: datetime | None = None,
        origins: tuple[str, ...] = (),
    ) -> tuple[ApiKey, str]:
        """A new key and its secret, which is never stored and cannot be shown again."""
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            id=secrets.token_hex(4),
            name=name,
            role=role,
            origins=origins,
            created_at=datetime.now(UTC),
            expires_at=expires_at,
            revoked_at=None,
        )
        with self.connection() as connection:
            connection.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                (key.id, name, role, _digest(secret), json.dumps(list(origins)),
                 key.created_at.isoformat(), expires_at.isoformat() if expires_at else None),
            )  # fmt: skip
        return key, secret

    def verify(self, secret: str, now: datetime | None = None) -> ApiKey | None:
        """The key this secret is, if it is one and still usable."""
        if not secret.startswith(KEY_PREFIX) or self.database.never_written():
            return None
        with self.connection() as connection:
            row = connection.execute(
                "SELECT * FROM api_keys WHERE secret_sha256 = ?", (_digest(secret),)
            ).fetchone()
        if row is None:
            return None
        key = _key(row)
        return key if key.usable(now or datetime.now(UTC)) else None

    def all_keys(self) -> list[ApiKey]:
        if self.database.never_written():
            return []
        with self.connection() as connection:
            rows = connection.execute("SELECT * FROM api_keys ORDER BY created_at").fetchall()
        return [_key(row) for row in rows]

    def any_made(self) -> bool:
        """Whether a key was ever made: from then on every request needs one. (No file, as on
        a disk that was full when the service started: none was.)"""
        if self.database.never_written():
            return False
        with self.connection() as connection:
            return connection.execute("SELECT 1 FROM api_keys LIMIT 1").fetchone() is not None

    def revoke(self, id_or_name: str) -> list[ApiKey]:
        """Revoke the key with this id, or every key with this name; raises `UnknownKey`."""
        now = datetime.now(UTC).isoformat()
        with self.connection() as connection:
            rows = connection.execute(
                "SELECT * FROM api_keys WHERE (id = ? OR name = ?) AND revoked_at IS NULL",
                (id_or_name, id_or_name),
            ).fetchall()
            if not rows:
                raise UnknownKey(id_or_name)
            connection.executemany(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ?",
                [(now, row["id"]) for row in rows],
            )
        return [_key(row) for row in rows]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(row: Any) -> ApiKey:
    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return ApiKey(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        origins=tuple(json.loads(row["origins"])),
        created_at=datetime.fromisoformat(row["created_at"]),
        expires_at=when(row["expires_at"]),
        revoked_at=when(row["revoked_at"]),
    )
