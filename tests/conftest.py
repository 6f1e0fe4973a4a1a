"""Shared fixtures: real components only.

- `embeddings`: the real bundled all-MiniLM-L6-v2, loaded once per session.
- `settings`: settings pointing at a fresh data folder under the test's tmp_path.
- `corpus_services`: the five sample papers ingested once per session into their own fresh
  data folder (ingesting the 188-page pack takes about a minute, so read-only tests share it);
  tests that write build their own index with `make_services`.
- `chroma_server`: a real `chroma run` server on loopback, started for the session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

from ingest.pipeline import ingest_paths
from ingest.store.embeddings import BundledEmbeddings
from service.container import Services, build_services
from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
HARD_PDFS = SHARED / "pdfs-hard"
AGENDA_PACK = CORPUS / "2024-12-05_oxfordshire-health-wellbeing-board_agenda-pack.pdf"
KEY_POINTS = CORPUS / "2017-07-05_sop-coordination-group_key-points.pdf"
PROTOCOL = CORPUS / "2016-05-12_performance-scrutiny-committee_sop-partnership-protocol.pdf"


# Tests needing any of these load the model or ingest papers: the slow tier.
_SLOW_FIXTURES = frozenset({"embeddings", "make_services", "corpus_services", "chroma_server"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark as `slow` every test that loads the model or ingests; `-m "not slow"` is the fast
    tier."""
    for item in items:
        if _SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's .env or data folder."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("BOARDPAPERS_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def embeddings() -> BundledEmbeddings:
    model = BundledEmbeddings()
    model.embed_query("warm up")  # load the weights once
    return model


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


MakeServices = Callable[..., Services]


@pytest.fixture
def make_services(embeddings: BundledEmbeddings) -> MakeServices:
    def make(settings: Settings, **components: object) -> Services:
        return build_services(settings, embeddings=embeddings, **components)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("corpus-data"))


@pytest.fixture(scope="session")
def corpus_services(corpus_settings: Settings, embeddings: BundledEmbeddings) -> Services:
    services = build_services(corpus_settings, embeddings=embeddings)
    report = ingest_paths([CORPUS], services.index)
    assert report.ok, report.files
    return services


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real Chroma server (`chroma run`, from the chromadb package) on loopback.

    `chroma run` in chromadb 1.5 takes `--path`, `--host` and `--port`. The venv's own
    `chroma` comes first so the server matches the client library's version.
    """
    import httpx

    beside_python = Path(sys.executable).parent / "chroma"
    executable = str(beside_python) if beside_python.is_file() else shutil.which("chroma")
    if executable is None:
        raise RuntimeError("no `chroma` executable: install chromadb in this environment")
    port = _free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [
            executable,
            "run",
            "--path",
            str(folder / "db"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # Ready means answering its heartbeat, not merely accepting connections.
    heartbeat = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(heartbeat, timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            log.close()
            raise RuntimeError(f"chroma run exited: {(folder / 'server.log').read_text()}")
        time.sleep(0.2)
    else:
        process.kill()
        log.close()
        raise RuntimeError("chroma run did not answer its heartbeat within 60 s")
    yield "127.0.0.1", port
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
