"""The gate: a request's key (or its absence) → the caller it speaks for.

With no key ever made, the service is the local demo: `serve` binds loopback only, and a caller
without a key is the local operator, who holds the data folder anyway. From the first key on,
every request needs one: `Authorization: Bearer <key>`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from service.access.keys import KeyStore
from service.access.roles import Caller, caller_for, local_operator


class NotAuthorised(Exception):
    """No usable key: the message says what to do."""


class Gate:
    def __init__(self, keys: KeyStore, roles: Mapping[str, Sequence[str]]) -> None:
        self.keys = keys
        self.roles = roles

    def caller(self, authorization: str | None, origin: str | None) -> Caller:
        secret = _bearer(authorization)
        if secret is None:
            if not self.keys.any_made():
                return local_operator()
            raise NotAuthorised(
                "this service needs an API key: send 'Authorization: Bearer <key>'; an admin"
                " makes one with `boardpapers keys create --role ROLE --name NAME`"
            )
        key = self.keys.verify(secret, datetime.now(UTC))
        if key is None:
            raise NotAuthorised("the API key is not valid: it is unknown, revoked or expired")
        if key.origins and origin not in key.origins:
            raise NotAuthorised(
                f"this key works only from {', '.join(key.origins)}; the request came from"
                f" {origin or 'no web page'}"
            )
        return caller_for(key.name, key.role, self.roles, key.id)


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
