"""The PostgreSQL the shared-state tests run against (tests/postgres_server.py) is real, gives
each test a database of its own, and is gone after its context: stopped, its cluster removed."""

from __future__ import annotations

import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import postgres_server
import psycopg
import pytest
from postgres_server import (
    DATABASE,
    PostgresUnavailable,
    database_url,
    running_postgres,
    server_binaries,
)


def _user_tables(url: str) -> list[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return sorted(str(name) for (name,) in rows)


def _test_databases(url: str) -> set[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT datname FROM pg_database").fetchall()
    return {str(name) for (name,) in rows if str(name).startswith("test_")}


def _accepts_connections(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_gets_a_fresh_empty_database_of_its_own(
    run: str, postgres_database: str, postgres_url: str
) -> None:
    """Run twice: the second run makes the same table again, so it cannot be in the first's
    database; and the first's is dropped by then, so only this test's own is on the server."""
    own_name = urlsplit(postgres_database).path.lstrip("/")
    assert _test_databases(postgres_url) == {own_name}
    assert _user_tables(postgres_database) == []
    with psycopg.connect(postgres_database) as connection:
        connection.execute("CREATE TABLE papers (title text)")
        connection.execute("INSERT INTO papers VALUES (%s)", (f"{run} run's paper",))
    with psycopg.connect(postgres_database) as connection:
        titles = connection.execute("SELECT title FROM papers").fetchall()
    assert titles == [(f"{run} run's paper",)]
    # The session's own database shares the server, not the tables.
    assert "papers" not in _user_tables(postgres_url)


def test_the_session_server_is_the_installed_postgresql(postgres_url: str) -> None:
    parts = urlsplit(postgres_url)
    assert (parts.scheme, parts.username, parts.hostname, parts.path) == (
        "postgresql", "postgres", "127.0.0.1", f"/{DATABASE}"
    )  # fmt: skip
    installed = subprocess.run(
        [str(server_binaries() / "postgres"), "--version"], capture_output=True, text=True
    ).stdout  # e.g. "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    with psycopg.connect(postgres_url) as connection:
        version = connection.execute("SHOW server_version").fetchone()
        database = connection.execute("SELECT current_database()").fetchone()
        listening = connection.execute("SHOW listen_addresses").fetchone()
    assert version is not None
    assert installed.strip() == f"postgres (PostgreSQL) {version[0]}"
    assert database == (DATABASE,)
    assert listening == ("127.0.0.1",)  # loopback only: trust auth must not reach further


class BodyFailed(Exception):
    """What the test body inside the context raises."""


def _serve_then_fail(folder: Path, served: list[str]) -> None:
    """Runs a cluster in `folder`, checks it serves, records its URL in `served`, and fails."""
    with running_postgres(folder) as url:
        with psycopg.connect(url) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
        assert (folder / "data" / "PG_VERSION").is_file()
        served.append(url)
        raise BodyFailed


def test_the_cluster_is_stopped_and_removed_after_its_context_even_on_failure() -> None:
    served: list[str] = []
    with tempfile.TemporaryDirectory(prefix="boardpapers-postgres-test-") as name:
        folder = Path(name)
        with pytest.raises(BodyFailed):
            _serve_then_fail(folder, served)
        (url,) = served
        port = urlsplit(url).port
        assert port is not None
        assert not _accepts_connections(port)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=2)
        assert list(folder.iterdir()) == []


def test_a_database_url_names_another_database_on_the_same_server() -> None:
    url = "postgresql://postgres@127.0.0.1:5433/boardpapers"
    assert database_url(url, "test_x") == "postgresql://postgres@127.0.0.1:5433/test_x"


def test_without_the_server_binaries_the_error_says_to_install_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no initdb there
    monkeypatch.setattr(postgres_server, "DEBIAN_BINARIES", tmp_path / "no-postgresql")
    with pytest.raises(PostgresUnavailable, match=r"run scripts/install-postgres\.sh"):
        server_binaries()
    with pytest.raises(PostgresUnavailable, match=r"install-postgres"), running_postgres(tmp_path):
        pass


def test_a_cluster_that_cannot_start_says_why_and_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with (
        socket.socket() as taken,
        tempfile.TemporaryDirectory(prefix="boardpapers-postgres-test-") as name,
    ):
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setattr(postgres_server, "free_port", lambda: taken.getsockname()[1])
        started = pytest.raises(PostgresUnavailable, match=r"(?s)pg_ctl start failed.*server log")
        with started as failure, running_postgres(Path(name)):
            pass
        assert "Address already in use" in str(failure.value)
        assert list(Path(name).iterdir()) == []
