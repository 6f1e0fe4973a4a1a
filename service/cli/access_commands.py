"""`boardpapers keys …` and `boardpapers audit`: who may read, and who read what."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from service.access.audit import AuditLog
from service.access.keys import KeyStore, UnknownKey
from service.settings import Settings


def add_access_commands(sub: Any) -> None:
    """Register `keys create|list|revoke` and `audit` on the CLI's sub-command parser."""
    keys = sub.add_parser(
        "keys",
        help="API keys: create, list, revoke",
        description="API keys, one per person or system, each with a role. Example: "
        'boardpapers keys create --role officer --name "Policy team"',
    )
    actions = keys.add_subparsers(dest="keys_command", required=True)
    p = actions.add_parser("create", help="make a key; it is printed once, on the last line")
    p.add_argument("--role", required=True, help="a role from the settings (public, officer…)")
    p.add_argument("--name", required=True, help="who or what uses it: a person, team or system")
    p.add_argument("--expires-in-days", type=int, help="the key stops working after this")
    p.add_argument(
        "--origin", action="append", default=[],
        help="web page origin the key may be used from (repeatable); for the chat widget's key",
    )  # fmt: skip
    p.set_defaults(func=cmd_keys_create)
    p = actions.add_parser("list", help="every key: id, name, role, state; never the key")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_keys_list)
    p = actions.add_parser("revoke", help="revoke a key by its id, or every key of a name")
    p.add_argument("key", help="the key's id (from `keys list`) or name")
    p.set_defaults(func=cmd_keys_revoke)

    p = sub.add_parser(
        "audit",
        help="who read what: one row per request that read papers",
        description="Example: boardpapers audit --since 2026-12-01 --key 'Policy team'",
    )
    p.add_argument("--since", help="rows from this date or time (ISO, e.g. 2026-12-01)")
    p.add_argument("--key", help="one key's rows, by id or name")
    p.add_argument("--format", choices=("csv", "json"), default="csv", help="default csv")
    p.set_defaults(func=cmd_audit)


def key_store(settings: Settings) -> KeyStore:
    return KeyStore(settings.access_database)


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    if args.role not in settings.roles:
        print(f"No role '{args.role}'. Roles: {', '.join(settings.roles)} "
              "(BOARDPAPERS_ROLES sets them).", file=sys.stderr)  # fmt: skip
        return 2
    expires = (
        datetime.now(UTC) + timedelta(days=args.expires_in_days) if args.expires_in_days else None
    )
    key, secret = key_store(settings).create(
        args.name, args.role, expires_at=expires, origins=tuple(args.origin)
    )
    where = f", only from {', '.join(key.origins)}" if key.origins else ""
    until = f", until {expires:%Y-%m-%d %H:%M} UTC" if expires else ""
    print(f"Key {key.id} for '{key.name}', role {key.role}{where}{until}.")
    print("Shown once: keep it now. Send it as 'Authorization: Bearer <key>'.")
    print(secret)
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    now = datetime.now(UTC)
    rows = [key.listing(now) for key in key_store(settings).all_keys()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No keys: the service is open on loopback only. `boardpapers keys create` makes one.")
    for row in rows:
        origins = f"  from {', '.join(row['origins'])}" if row["origins"] else ""
        print(f"{row['id']}  {row['state']:8} {row['role']:8} {row['name']}{origins}")
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    try:
        revoked = key_store(settings).revoke(args.key)
    except UnknownKey:
        print(f"No active key '{args.key}'. `boardpapers keys list` shows them.", file=sys.stderr)
        return 1
    for key in revoked:
        print(f"Revoked {key.id} ('{key.name}', role {key.role}).")
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    try:
        since = datetime.fromisoformat(args.since) if args.since else None
    except ValueError:
        print(f"--since {args.since!r} is not a date: write it as 2026-12-01.", file=sys.stderr)
        return 2
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    rows = [row.as_dict() for row in AuditLog(settings.access_database).rows(since, args.key)]
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    columns = ["at", "key_id", "key_name", "role", "method", "route", "asked", "filters",
               "documents", "status", "latency_ms"]  # fmt: skip
    writer = csv.DictWriter(sys.stdout, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "filters": json.dumps(row["filters"]) if row["filters"] else "",
                         "documents": json.dumps(row["documents"])})  # fmt: skip
    return 0
