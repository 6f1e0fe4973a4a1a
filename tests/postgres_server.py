"""A real, throwaway PostgreSQL server for the tests of the shared state (issue 21).

`running_postgres(folder)` makes a cluster with `initdb` in `folder`, starts it with `pg_ctl`
on a free loopback port (trust auth, fsync off: the data is thrown away), makes the database
`boardpapers` and yields its URL; at exit the server is stopped and the cluster removed.
PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user
(Debian's package makes it). The binaries come from scripts/install-postgres.sh.

Fixtures (registered in conftest.py): `postgres_url`, one server for the session, and
`postgres_database`, a fresh empty database of its own per test, dropped after it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from service.cli.subprocess_server import free_port

DATABASE = "boardpapers"
SUPERUSER = "postgres"
SERVER_USER = "postgres"  # the system user the server runs as when we are root
DEBIAN_BINARIES = Path("/usr/lib/postgresql")
DEADLINE = 60.0  # seconds to start or stop: a guard against hanging, not a figure
INSTALL_HINT = "run scripts/install-postgres.sh (`make postgres`)"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries, or a cluster that would not start; says what to do."""


def server_binaries() -> Path:
    """The folder holding `initdb`, `pg_ctl`, `postgres` (and `pg_isready`): the PATH's, else
    Debian's newest under /usr/lib/postgresql/VERSION/bin (off the PATH there)."""
    on_path = shutil.which("initdb")
    # Resolved: a link on the PATH into Debian's folder means that folder, pg_isready and all.
    candidates = [Path(on_path).resolve().parent] if on_path else []
    versions = DEBIAN_BINARIES.glob("*/bin") if DEBIAN_BINARIES.is_dir() else []
    candidates += sorted(versions, key=_major_version, reverse=True)
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PostgresUnavailable(
        f"no PostgreSQL server (initdb, pg_ctl) on the PATH or under {DEBIAN_BINARIES}/*/bin: "
        + INSTALL_HINT
    )


def _major_version(bin_folder: Path) -> int:
    number = bin_folder.parent.name
    return int(number) if number.isdigit() else -1


def _as_server_user() -> list[str]:
    """The prefix that runs a command as the server's user: `runuser` when we are root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"PostgreSQL will not run as root and there is no `{SERVER_USER}` system user to run "
            f"it as: {INSTALL_HINT}, which makes one"
        ) from None
    return ["runuser", "-u", SERVER_USER, "--"]


def _give_to_server_user(folder: Path) -> None:
    """As root: `folder` becomes the server user's, and must be reachable by it."""
    if os.geteuid() != 0:
        return
    account = pwd.getpwnam(SERVER_USER)
    os.chown(folder, account.pw_uid, account.pw_gid)
    reachable = subprocess.run([*_as_server_user(), "test", "-w", str(folder)], check=False)
    if reachable.returncode != 0:
        raise PostgresUnavailable(
            f"the `{SERVER_USER}` user cannot reach {folder}: a folder above it is closed to "
            "other users (pytest's tmp_path is); use one under /tmp, e.g. tempfile.mkdtemp()"
        )


def _run(command: list[str], what: str) -> None:
    """`command` run to its end quietly; its output in the error when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=DEADLINE, check=False)
    if done.returncode != 0:
        raise PostgresUnavailable(f"{what} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def _server_settings(port: int, socket_folder: Path) -> str:
    """postgresql.conf lines: loopback only, our port and socket folder, no durability (the
    cluster is thrown away), quiet."""
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": f"'{socket_folder}'",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",  # two replicas, a sync and the tests, each with a pool
        "log_min_messages": "warning",
    }
    return "".join(f"{name} = {value}\n" for name, value in settings.items())


def _wait_until_accepting(url: str, log: Path) -> None:
    """Returns once `url` takes a connection (pg_ctl's wait reads a file, not the socket)."""
    deadline = time.monotonic() + DEADLINE
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline:
                log_text = log.read_text() if log.exists() else ""
                raise PostgresUnavailable(
                    f"PostgreSQL at {url} did not accept connections in {DEADLINE:.0f} s: "
                    f"{error}\n{log_text}"
                ) from error
            time.sleep(0.2)


def database_url(server_url: str, name: str) -> str:
    """`server_url` pointing at the database `name` instead."""
    return urlsplit(server_url)._replace(path=f"/{name}").geturl()


@contextmanager
def running_postgres(folder: Path) -> Iterator[str]:
    """A fresh PostgreSQL cluster in `folder`, serving on a free loopback port with the empty
    database `boardpapers`; yields `postgresql://postgres@127.0.0.1:PORT/boardpapers`.
    Afterwards the server is stopped (fast mode) and the cluster removed, whatever happened."""
    binaries = server_binaries()
    as_server_user = _as_server_user()
    folder.mkdir(parents=True, exist_ok=True)
    _give_to_server_user(folder)
    data, sockets, log = folder / "data", folder / "sockets", folder / "server.log"
    port = free_port()
    pg_ctl = [*as_server_user, str(binaries / "pg_ctl"), "--pgdata", str(data)]
    started = False
    try:
        initdb = [*as_server_user, str(binaries / "initdb"), "--pgdata", str(data)]
        initdb += ["--username", SUPERUSER, "--auth", "trust", "--encoding", "UTF8"]
        initdb += ["--locale", "C", "--no-sync", "--no-instructions"]
        _run(initdb, "initdb")
        _run([*as_server_user, "mkdir", "-m", "700", str(sockets)], "making the socket folder")
        with (data / "postgresql.conf").open("a") as conf:  # appended: the file stays theirs
            conf.write(_server_settings(port, sockets))
        start = [*pg_ctl, "start", "--wait", "--timeout", str(int(DEADLINE))]
        start += ["--log", str(log), "--silent"]
        started = True  # from here a half-started server is stopped too
        try:
            _run(start, "pg_ctl start")
        except PostgresUnavailable as error:
            log_text = log.read_text() if log.exists() else ""
            raise PostgresUnavailable(f"{error}\nserver log:\n{log_text}") from None
        server_url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"
        _wait_until_accepting(server_url, log)
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
        yield database_url(server_url, DATABASE)
    finally:
        if started:
            stop = [*pg_ctl, "stop", "--mode", "fast", "--wait", "--timeout", str(int(DEADLINE))]
            subprocess.run(stop, capture_output=True, timeout=DEADLINE * 2, check=False)
        for made in (data, sockets):
            shutil.rmtree(made, ignore_errors=True)
        log.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One PostgreSQL server for the session; its `boardpapers` database's URL. Its folder is
    under /tmp, not pytest's tmp_path: as root the server's own user must reach it."""
    with (
        tempfile.TemporaryDirectory(prefix="boardpapers-postgres-") as folder,
        running_postgres(Path(folder)) as url,
    ):
        yield url


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """A fresh empty database on the session's server, for this test alone; its URL."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    identifier = sql.Identifier(name)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(identifier))
    try:
        yield database_url(postgres_url, name)
    finally:
        # FORCE: a connection the code under test left open must not keep it alive.
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
