"""The Dockerfile and compose.yaml, checked without Docker: what their text promises (a user
that is not root, torch's CPU build, pinned images, settings that exist, replicas on ports of
their own sharing one PostgreSQL database and one Chroma server, every service waiting for the
health of what it needs), and the very commands their entrypoints and health checks run, run
here for real: the image's first start (an admin key made once) and its health check, the
Chroma and PostgreSQL health checks against real servers, and the compose `sync` service's
scheduled sync against a real Chroma server and PostgreSQL. And `sync --watch`, the schedule's
other form: a paper still being copied in is read only once it is whole."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import psycopg
import pytest
import yaml
from conftest import KEY_POINTS, PROTOCOL, ROOT
from papers import make_pdf
from postgres_server import server_binaries

from ingest.reading.metadata import document_id
from ingest.sync import sync_lock
from service.cli.subprocess_server import clean_environment, free_port, running_server
from service.settings import Settings

DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
PYPROJECT = ROOT / "pyproject.toml"
VENV_BIN = Path(sys.executable).parent
PREFIX = str(Settings.model_config.get("env_prefix", ""))
SETTING_NAMES = {PREFIX + name.upper() for name in Settings.model_fields}
DEADLINE = 300.0  # seconds for a start or a round: a guard against hanging, not a figure
POSTGRES_PORT = 5432  # the postgres image's, left as it is
# What every boardpapers service must agree on to see one index and one state.
SHARED = "DATABASE_URL CHROMA_HOST CHROMA_PORT COLLECTION".split()
SHARED_SETTINGS = [PREFIX + name for name in SHARED]
# `${NAME}` or `${NAME:-default}`, compose's interpolation; `$$` is a literal `$`.
INTERPOLATION = re.compile(r"(?<!\$)\$\{(\w+)(?::?-([^}]*))?\}")


# -- reading the files --------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (name, arguments), continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = (line.strip() for line in joined.splitlines())
    pairs = (line.split(None, 1) for line in lines if line and not line.startswith("#"))
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def _arguments(name: str) -> list[str]:
    return [arguments for instruction, arguments in _instructions() if instruction == name]


def _dockerfile_env() -> dict[str, str]:
    return dict(item.split("=", 1) for env in _arguments("ENV") for item in shlex.split(env))


def _shell_command() -> str:
    """The CMD's shell line: `sh -c LINE`, so that `exec` hands signals to the server."""
    (cmd,) = _arguments("CMD")
    shell, flag, line = json.loads(cmd)
    assert (shell, flag) == ("sh", "-c"), cmd
    return str(line)


def _health_check() -> list[str]:
    (check,) = _arguments("HEALTHCHECK")
    _, exec_form = check.split(" CMD ", 1)
    return [str(part) for part in json.loads(exec_form)]


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _services() -> dict[str, dict[str, Any]]:
    return dict(_compose()["services"])


def _built_services() -> dict[str, dict[str, Any]]:
    """The services built from this project's Dockerfile."""
    return {name: spec for name, spec in _services().items() if "build" in spec}


def _service_of_image(image: str) -> str:
    """The one service running the image `image` (any tag)."""
    (name,) = [n for n, s in _services().items() if str(s.get("image", "")).startswith(image)]
    return name


def _chroma_service() -> str:
    return _service_of_image("chromadb/chroma:")


def _postgres_service() -> str:
    return _service_of_image("postgres:")


def _serving_replicas() -> dict[str, dict[str, Any]]:
    """The built services that publish the API: the replicas behind one load balancer."""
    return {name: spec for name, spec in _built_services().items() if spec.get("ports")}


def _interpolated(text: str) -> str:
    """`text` as compose reads it with none of its variables set: each `${NAME:-default}` is
    its default (empty without one)."""
    return INTERPOLATION.sub(lambda match: match[2] or "", text).replace("$$", "$")


def _published_ports(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """A service's published ports, (host port, container port), short syntax
    `[IP:]HOST:CONTAINER[/PROTOCOL]`."""
    published: list[tuple[str, str]] = []
    for port in spec.get("ports", []):
        *_, host, container = str(port).split(":")
        published.append((host, container.split("/")[0]))
    return published


def _depends_on(spec: dict[str, Any]) -> dict[str, str]:
    """A service's dependencies, name → condition (the list form means `service_started`)."""
    needs = spec.get("depends_on", {})
    if isinstance(needs, list):
        return dict.fromkeys(needs, "service_started")
    return {
        name: str(dict(how or {}).get("condition", "service_started"))
        for name, how in needs.items()
    }


def _health_check_of(name: str) -> list[str] | None:
    """The check a service's health is judged by: compose's own, else the image's (built from
    the Dockerfile); None when there is none or it is disabled."""
    spec = _services()[name]
    check = spec.get("healthcheck")
    if check is not None:
        return None if check.get("disable") else [str(part) for part in check["test"]]
    return ["CMD", *_health_check()] if "build" in spec else None


def _mounts(spec: dict[str, Any]) -> dict[str, str]:
    """A service's mounts, target → source (a `${VAR:-default}` source kept whole)."""
    mounts: dict[str, str] = {}
    for volume in spec.get("volumes", []):
        short_syntax = re.fullmatch(r"(\$\{[^}]*\}|[^:]+):([^:]+)(?::\w+)?", str(volume))
        assert short_syntax, f"not a volume: {volume}"
        mounts[short_syntax[2]] = short_syntax[1]
    return mounts


def _compose_env(spec: dict[str, Any]) -> dict[str, str]:
    """A service's environment as its process sees it (compose's defaults filled in)."""
    return {
        key: _interpolated(str(value)) for key, value in dict(spec.get("environment", {})).items()
    }


def _settings_of(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings a process given `env` reads."""
    with monkeypatch.context() as environment:
        for key, value in env.items():
            environment.setenv(key, value)
        return Settings()


def _environment(extra: dict[str, str]) -> dict[str, str]:
    """This machine's clean environment as the image would see it: the project's commands
    first on the PATH, and `extra` (the Dockerfile's or compose's settings, made local)."""
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return clean_environment(PATH=path, **extra)


# -- what the text promises ---------------------------------------------------------------


def test_the_image_runs_as_a_user_who_owns_the_data_folders() -> None:
    instructions = _instructions()
    users = [arguments for name, arguments in instructions if name == "USER"]
    assert users, "no USER: the service would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    creates = [a for n, a in instructions if n == "RUN" and "useradd" in a and user in a]
    assert creates, f"the user {user} is never made"
    owned = " ".join(creates)
    data_dirs = {_dockerfile_env()["BOARDPAPERS_DATA_DIR"]}
    data_dirs |= {_compose_env(spec)["BOARDPAPERS_DATA_DIR"] for spec in _built_services().values()}
    for folder in data_dirs:  # a folder root owned would fail at the first write
        assert re.search(rf"chown\S*\s+{user}\S*\s+(\S+\s+)*{re.escape(folder)}\b", owned), folder
    # The sample papers are ingested as that user, after it takes over.
    ingest_at = next(i for i, (n, a) in enumerate(instructions) if "boardpapers ingest" in a)
    assert max(i for i, (n, _) in enumerate(instructions) if n == "USER") < ingest_at


def test_torch_is_the_pinned_cpu_build_installed_here() -> None:
    torch_installs = [a for a in _arguments("RUN") if re.search(r"\btorch\b", a)]
    assert len(torch_installs) == 1, torch_installs
    pinned = re.search(r"torch==(\S+)", torch_installs[0])
    assert pinned, "torch is not pinned"
    assert pinned.group(1) == version("torch").split("+")[0]  # the build the tests ran on
    assert "--index-url https://download.pytorch.org/whl/cpu" in torch_installs[0]
    # torch before the project: else the resolver would pick the CUDA build for it.
    runs = _arguments("RUN")
    assert runs.index(torch_installs[0]) < runs.index("pip install .")


def test_the_image_has_ocr_tools_from_debian() -> None:
    apt = " ".join(a for a in _arguments("RUN") if "apt-get install" in a)
    for package in ("tesseract-ocr", "tesseract-ocr-eng"):
        assert re.search(rf"\s{re.escape(package)}(\s|$)", apt), package


def test_every_image_is_pinned_and_chroma_matches_the_client() -> None:
    (base,) = _arguments("FROM")
    images = [base, *(str(s["image"]) for s in _services().values() if "image" in s)]
    for image in images:
        name, _, tag = image.partition(":")
        assert re.match(r"\d", tag), f"{image} is not pinned to a version"
    chroma_image = _services()[_chroma_service()]["image"]
    assert chroma_image == f"chromadb/chroma:{version('chromadb')}"


def test_every_setting_the_files_set_is_a_real_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    set_by_files = {"Dockerfile": _dockerfile_env()}
    set_by_files |= {name: _compose_env(spec) for name, spec in _services().items()}
    for where, env in set_by_files.items():
        ours = {key: value for key, value in env.items() if key.startswith(PREFIX)}
        assert set(ours) <= SETTING_NAMES, f"{where}: no such setting {set(ours) - SETTING_NAMES}"
    for name, spec in _built_services().items():
        # The values are valid too: the image's settings under the service's own.
        settings = _settings_of({**_dockerfile_env(), **_compose_env(spec)}, monkeypatch)
        assert settings.chroma_mode == "server", name
        assert settings.chroma_host == _chroma_service(), name
        assert settings.database_url == _compose_env(spec)["BOARDPAPERS_DATABASE_URL"], name
        assert str(settings.data_dir) in _mounts(spec), f"{name}: its data folder is not a volume"


def test_the_services_wait_for_a_healthy_chroma_and_postgres() -> None:
    for server in (_chroma_service(), _postgres_service()):
        assert _services()[server]["healthcheck"]["test"][0] == "CMD", server
    built = _built_services()
    assert {"sync"} < set(built), "no scheduled sync service"
    for name, spec in built.items():
        for server in (_chroma_service(), _postgres_service()):
            assert _depends_on(spec).get(server) == "service_healthy", f"{name} on {server}"
    # Both see one data folder and one folder of papers: the service opens what sync read.
    assert len({tuple(sorted(_mounts(spec).items())) for spec in built.values()}) == 1
    command = built["sync"]["command"]
    assert command[:2] == ["boardpapers", "sync"]
    assert "--every" in command
    assert command[-1] in _mounts(built["sync"])


def test_every_boardpapers_service_shares_one_postgres_database_and_one_chroma() -> None:
    postgres = _compose_env(_services()[_postgres_service()])
    built = _built_services()
    for name, spec in built.items():
        env = _compose_env(spec)
        assert env.get("BOARDPAPERS_CHROMA_MODE") == "server", name
        assert env.get("BOARDPAPERS_CHROMA_HOST") == _chroma_service(), name
        assert "BOARDPAPERS_DATABASE_URL" in env, f"{name} keeps its state to itself"
        url = urlsplit(env["BOARDPAPERS_DATABASE_URL"])
        assert url.scheme in {"postgresql", "postgres"}, name
        assert (url.hostname, url.port) == (_postgres_service(), POSTGRES_PORT), name
        # The very user, password and database the postgres image makes on its first start.
        assert unquote(url.username or "") == postgres["POSTGRES_USER"], name
        assert unquote(url.password or "") == postgres["POSTGRES_PASSWORD"], name
        assert url.path == f"/{postgres['POSTGRES_DB']}", name
    envs = [_compose_env(spec) for spec in built.values()]
    truths = {tuple(env.get(key) for key in SHARED_SETTINGS) for env in envs}
    assert len(truths) == 1, f"the services do not share one truth: {truths}"
    # Its data survives a restart, and neither server is published beyond compose's network.
    assert "/var/lib/postgresql/data" in _mounts(_services()[_postgres_service()])
    for server in (_postgres_service(), _chroma_service()):
        assert not _services()[server].get("ports"), f"{server} is published"


def test_two_replicas_serve_on_ports_that_do_not_collide() -> None:
    replicas = _serving_replicas()
    assert len(replicas) >= 2, f"one replica is not several: {sorted(replicas)}"
    container_port = _dockerfile_env()["BOARDPAPERS_PORT"]
    for name, spec in replicas.items():
        assert "BOARDPAPERS_PORT" not in _compose_env(spec), name  # the image's port it is
        assert [inside for _, inside in _published_ports(spec)] == [container_port], name
    host_ports = [host for spec in _services().values() for host, _ in _published_ports(spec)]
    assert len(host_ports) == len(set(host_ports)), f"a host port published twice: {host_ports}"
    assert "command" not in {key for spec in replicas.values() for key in spec}, "not the image's"


def test_every_dependency_exists_and_has_a_health_check_to_wait_for() -> None:
    services = _services()
    for name, spec in services.items():
        for needed, condition in _depends_on(spec).items():
            assert needed in services, f"{name} depends on {needed}: no such service"
            assert needed != name, name
            if condition == "service_healthy":
                assert _health_check_of(needed), f"{name} waits for {needed}'s health: none"
    for name in services:  # every long-running server is judged by a check, except sync
        if name != "sync":
            assert _health_check_of(name), f"{name} has no health check"
    postgres_check = _health_check_of(_postgres_service()) or []
    # Over TCP: during the image's first start its server listens on the socket alone.
    assert postgres_check[:2] == ["CMD", "pg_isready"]
    assert postgres_check[postgres_check.index("--host") + 1] == "127.0.0.1"


def test_the_image_can_load_postgresql_s_client_library() -> None:
    """The slim base image has no libpq: psycopg must bring its own (the binary extra) or the
    Dockerfile install Debian's libpq5."""
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    # `psycopg`, `psycopg[binary,pool]>=3.2`, … but not `psycopg-pool`: (extras) or None.
    requirement = re.compile(r"psycopg\s*(?:\[([^\]]*)\])?\s*(?:[<>=!~;@]|$)")
    found = [match for line in dependencies if (match := requirement.match(line))]
    assert found, "psycopg is not among the project's dependencies: the image cannot connect"
    extras = {extra.strip() for extra in (found[0][1] or "").split(",")}
    if not extras & {"binary", "c"}:  # the pure-Python psycopg: it loads the system's libpq
        apt = " ".join(a for a in _arguments("RUN") if "apt-get install" in a)
        assert re.search(r"\slibpq5(\s|$)", apt), "plain psycopg in an image without libpq5"


# -- the commands, run --------------------------------------------------------------------


@pytest.mark.slow  # serves twice, loading the model each time
def test_the_image_command_makes_an_admin_key_once_and_serves(tmp_path: Path) -> None:
    port = free_port()
    env = _environment({
        **_dockerfile_env(),
        "BOARDPAPERS_DATA_DIR": str(tmp_path / "data"),
        "BOARDPAPERS_PROMPTS_DIR": str(ROOT / "prompts"),
        "BOARDPAPERS_CORPUS_DIR": str(ROOT / "corpus"),
        "BOARDPAPERS_PORT": str(port),
    })  # fmt: skip
    command = ["sh", "-c", _shell_command()]
    health = f"http://127.0.0.1:{port}/healthz"
    check = _health_check()
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"

    with running_server(command, health, first_log, timeout=DEADLINE, env=env, cwd=tmp_path):
        assert subprocess.run(check, env=env, timeout=60).returncode == 0
        key = first_log.read_text().split("Shown once", 1)[1].splitlines()[1].strip()
        as_admin = httpx.get(health, headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert as_admin.json()["documents"] == 0, as_admin.text  # counts: an admin's alone
    assert subprocess.run(check, env=env, timeout=60, capture_output=True).returncode != 0

    with running_server(command, health, second_log, timeout=DEADLINE, env=env, cwd=tmp_path):
        assert "Shown once" not in second_log.read_text()
        listed = subprocess.run(["boardpapers", "keys", "list", "--json"], env=env,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        keys = json.loads(listed.stdout)
        assert [(k["role"], k["state"]) for k in keys] == [("admin", "active")]
        as_admin = httpx.get(health, headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert as_admin.status_code == 200  # the first start's key still opens it


def test_the_postgres_health_check_asks_a_real_server(postgres_url: str) -> None:
    """The compose check, with the session's server's port, run by the installed pg_isready."""
    program, *arguments = (_health_check_of(_postgres_service()) or [])[1:]
    command = [str(server_binaries() / program), *arguments]
    port = str(urlsplit(postgres_url).port)
    assert (
        subprocess.run([*command, "--port", port], capture_output=True, timeout=30).returncode == 0
    )
    nothing_there = [*command, "--port", str(free_port())]
    assert subprocess.run(nothing_there, capture_output=True, timeout=30).returncode != 0


def test_the_chroma_health_check_asks_a_real_server(
    chroma_server: tuple[str, int], tmp_path: Path
) -> None:
    """The compose check, unescaped ($$ is compose's $) and pointed at the session's server."""
    host, port = chroma_server
    test = _services()[_chroma_service()]["healthcheck"]["test"][1:]
    here = [part.replace("$$", "$").replace("127.0.0.1/8000", f"{host}/{port}") for part in test]
    assert subprocess.run(here, timeout=30).returncode == 0
    nothing_there = [part.replace(str(port), str(free_port())) for part in here]
    assert subprocess.run(nothing_there, timeout=30, capture_output=True).returncode != 0


@dataclass
class RunningCommand:
    """A `boardpapers` process whose output is read as it runs."""

    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    def output(self) -> str:
        return self.out.read_text()

    def wait_for(self, text: str, *, stream: str = "out") -> str:
        """The output once `text` is in it; fails if the process exits first."""
        path = self.out if stream == "out" else self.err
        deadline = time.monotonic() + DEADLINE
        while text not in path.read_text():
            assert self.process.poll() is None, self.report()
            assert time.monotonic() < deadline, f"never printed {text!r}:\n{self.report()}"
            time.sleep(0.2)
        return path.read_text()

    def stop(self, signum: signal.Signals) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=DEADLINE)

    def report(self) -> str:
        return f"stdout:\n{self.output()}\nstderr:\n{self.err.read_text()}"


@contextmanager
def running(argv: list[str], env: dict[str, str], logs: Path) -> Iterator[RunningCommand]:
    out, err = logs / "stdout.txt", logs / "stderr.txt"
    with out.open("wb") as out_file, err.open("wb") as err_file:
        process = subprocess.Popen(argv, env=env, cwd=logs, stdout=out_file, stderr=err_file)
    try:
        yield RunningCommand(process, out, err)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _boardpapers(argv: list[str], env: dict[str, str]) -> str:
    """What `boardpapers ARGV` prints, run as the image would run it with `env`."""
    done = subprocess.run(["boardpapers", *argv], env=_environment(env), capture_output=True,
                          text=True, timeout=DEADLINE)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def _move_in(source: Path, folder: Path) -> Path:
    """`source` copied into `folder` whole: written beside it, then renamed in."""
    staged = folder.parent / f"{source.name}.staged"
    shutil.copyfile(source, staged)
    return staged.rename(folder / source.name)


@pytest.mark.server
def test_the_compose_sync_service_syncs_on_schedule_and_stops_on_sigterm(
    chroma_server: tuple[str, int], postgres_database: str, tmp_path: Path
) -> None:
    """Its command (every 2 s, not 15 min) against a real Chroma server and PostgreSQL: a
    round that finds the lock busy is reported and the schedule goes on; a paper added later
    is synced."""
    spec = _built_services()["sync"]
    papers, data, logs = tmp_path / "papers", tmp_path / "data", tmp_path / "logs"
    papers.mkdir()
    logs.mkdir()
    host, port = chroma_server
    env = {**_compose_env(spec), "BOARDPAPERS_DATA_DIR": str(data)}
    env |= {"BOARDPAPERS_CHROMA_HOST": host, "BOARDPAPERS_CHROMA_PORT": str(port)}
    env["BOARDPAPERS_DATABASE_URL"] = postgres_database  # compose's `postgres`, here
    env["BOARDPAPERS_COLLECTION"] = f"compose-{uuid.uuid4().hex[:12]}"  # the server is shared
    command = list(spec["command"])
    command[command.index("--every") + 1] = "2s"
    command[-1] = str(papers)  # the mounted papers folder
    _move_in(KEY_POINTS, papers)

    with ExitStack() as lock, running(command, _environment(env), logs) as sync:
        # Started with the lock held (a person's `ingest`): its first round cannot sync.
        lock.enter_context(sync_lock(data))
        sync.wait_for("another sync or ingest is running", stream="err")
        lock.close()
        sync.wait_for(f"added     {KEY_POINTS.name}")
        _move_in(PROTOCOL, papers)
        sync.wait_for(f"added     {PROTOCOL.name}")
        assert sync.stop(signal.SIGTERM) == 0, sync.report()

    rounds = re.split(r"^== sync at \S+ ==$", sync.output(), flags=re.MULTILINE)
    assert rounds[0] == "", "a report line before any round's timestamp"
    added = [i for i, text in enumerate(rounds) for name in (KEY_POINTS, PROTOCOL)
             if f"added     {name.name}" in text]  # fmt: skip
    assert len(added) == 2, sync.output()
    assert 1 < added[0] < added[1], sync.output()  # round 1 was refused
    assert "Stopped after" in sync.err.read_text()
    # What the service would read: the papers, and the new one's vectors on the server.
    documents = json.loads(_boardpapers(["documents", "--json"], env))
    assert {Path(d["source"]).name for d in documents} == {KEY_POINTS.name, PROTOCOL.name}
    question = "What is the officer-led Business Group now known as?"
    hits = json.loads(_boardpapers(["search", question, "-k", "3", "--json"], env))
    assert document_id(PROTOCOL) in {hit["document"]["id"] for hit in hits}
    # Read there from the shared database, where another replica would read it too.
    with psycopg.connect(postgres_database) as database:
        shared = database.execute("SELECT doc_id FROM documents").fetchall()
    assert {row[0] for row in shared} == {document_id(KEY_POINTS), document_id(PROTOCOL)}


@pytest.mark.slow  # the command loads the model and ingests
def test_watch_reads_a_paper_once_it_is_whole_and_goes_on_after_a_broken_one(
    tmp_path: Path,
) -> None:
    papers, logs = tmp_path / "papers", tmp_path / "logs"
    papers.mkdir()
    logs.mkdir()
    make_pdf(papers / "housing.pdf", "housing")
    whole = make_pdf(tmp_path / "waste.pdf", "waste", pages=3).read_bytes()
    command = ["boardpapers", "--data-dir", str(tmp_path / "data"), "sync", str(papers)]
    command += ["--watch", "--settle", "2s", "--quiet"]

    with running(command, _environment({}), logs) as sync:
        sync.wait_for("1 files: 1 added")
        # Copied in slowly, a piece every 0.4 s: never still for the 2 s settle time.
        with (papers / "waste.pdf").open("wb") as copying:
            for start in range(0, len(whole), len(whole) // 8 + 1):
                copying.write(whole[start : start + len(whole) // 8 + 1])
                copying.flush()
                time.sleep(0.4)
        assert sync.output().count("== sync at") == 1, "a round read the paper half-copied"
        sync.wait_for("added     waste.pdf")
        (papers / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a PDF")
        sync.wait_for("could not be synced", stream="err")
        make_pdf(papers / "parks.pdf", "parks")
        sync.wait_for("added     parks.pdf")
        assert sync.stop(signal.SIGINT) == 0, sync.report()

    out = sync.output()
    assert out.count("== sync at") == 4, out  # the start, and once per change: none idle
    assert "waste.pdf" not in out.replace("added     waste.pdf", ""), out
    assert "skipped   broken.pdf" in out
