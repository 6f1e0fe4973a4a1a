"""Roles grant access levels; a caller reads only the papers at the levels its role grants.

Deny by default: a paper whose level no role names is seen by `admin` alone, and a role not
in the settings grants nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ingest.models import DocumentMeta

if TYPE_CHECKING:  # the settings import this module, and the index is heavy to import
    from ingest.store.index import SearchFilters

ADMIN = "admin"
# Levels in the order they widen: each role below sees its own and the ones before it.
DEFAULT_ROLES: dict[str, list[str]] = {
    "public": ["public"],
    "officer": ["public", "restricted"],
    "member": ["public", "restricted", "exempt"],
    ADMIN: ["*"],  # every level, named or not
}
EVERY_LEVEL = "*"
# A level no paper has (a paper's level is never empty): filters admitting only it admit none.
NO_LEVEL = ""


@dataclass(frozen=True)
class Caller:
    """Who is asking: a key's name and role (or the open local demo's), and what it may read."""

    name: str
    role: str
    levels: frozenset[str]  # access levels granted; EVERY_LEVEL: all of them
    key_id: str | None = None  # None: no key (the local demo, or the CLI on its own data)

    @property
    def identity(self) -> str:
        """What the caller's conversations and rate limit are kept under."""
        return self.key_id or self.name

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def sees_everything(self) -> bool:
        return EVERY_LEVEL in self.levels

    def may_read(self, meta: DocumentMeta) -> bool:
        return self.sees_everything or meta.access in self.levels

    def narrow(self, filters: SearchFilters | None) -> SearchFilters | None:
        """The caller's filters restricted to the levels it may read, for both indexes to
        apply inside retrieval. A level asked for but not granted admits nothing."""
        from ingest.store.index import SearchFilters

        if self.sees_everything:
            return filters
        asked = filters or SearchFilters()
        levels = [level for level in asked.access or sorted(self.levels) if level in self.levels]
        return replace(asked, access=tuple(levels) or (NO_LEVEL,))


def caller_for(
    name: str, role: str, roles: Mapping[str, Sequence[str]], key_id: str | None = None
) -> Caller:
    """A caller with `role`'s levels; an unknown role grants none."""
    return Caller(name, role, frozenset(roles.get(role, ())), key_id)


def local_operator() -> Caller:
    """The one who holds the data folder: the CLI run on it, and the open local demo."""
    return Caller("local", ADMIN, frozenset({EVERY_LEVEL}))
