"""Operations (issue 22): `/readyz`, Prometheus `/metrics`, JSON logs and `serve --workers N`,
through the app over the sample corpus, and through a real `boardpapers serve` on a real port."""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, MakeServices
from fastapi.testclient import TestClient
from papers import make_pdf
from prometheus_client.parser import text_string_to_metric_families

from ingest.pipeline import ingest_paths
from ingest.store.embeddings import BundledEmbeddings
from ingest.store.index import make_chroma_client
from service.access.keys import KeyStore
from service.api.app import create_app
from service.cli.main import main
from service.cli.subprocess_server import (
    boardpapers_command,
    clean_environment,
    free_port,
    running_server,
)
from service.container import Services, build_services
from service.llm.models import make_chat_model
from service.settings import Settings

ANSWERABLE = "What was the adult re-offending rate in Oxfordshire in 2014?"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def client(corpus_settings: Settings, corpus_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(corpus_settings, services=corpus_services)) as client:
        yield client


def scrape(text: str) -> Samples:
    """Every sample of a Prometheus scrape, by name and labels, read by the client library's
    own parser (so the text is valid exposition format)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def closed_port_url() -> str:
    """An OpenAI-compatible base URL nothing answers at."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"  # closed again before the probe


# --- /readyz ------------------------------------------------------------------------------


def test_readyz_is_ready_over_the_sample_papers(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"chroma": "ok", "index": "ok"}}


def test_readyz_names_an_llm_that_cannot_be_reached_and_tells_only_an_admin_why(
    corpus_settings: Settings, corpus_services: Services, tmp_path: Path
) -> None:
    dead = closed_port_url()
    settings = corpus_settings.model_copy(
        update={"data_dir": tmp_path, "answerer": "llm", "llm_base_url": dead, "llm_model": "m"}
    )
    services = dataclasses.replace(
        corpus_services, settings=settings, llm=make_chat_model(settings)
    )
    keys = KeyStore(settings.access_db_path)
    admin, public = keys.create("ops", "admin")[1], keys.create("site", "public")[1]
    with TestClient(create_app(settings, services=services)) as llm_client:
        anyone = llm_client.get("/readyz")
        as_public = llm_client.get("/readyz", headers={"Authorization": f"Bearer {public}"})
        told = llm_client.get("/readyz", headers={"Authorization": f"Bearer {admin}"})
    assert anyone.status_code == as_public.status_code == told.status_code == 503
    assert (
        anyone.json()
        == as_public.json()
        == {
            "status": "not ready",
            "checks": {"chroma": "ok", "index": "ok", "llm": "not ready"},
        }
    )
    assert told.json()["checks"]["llm"].startswith(f"the LLM at {dead}/models cannot be reached")
    assert told.json()["checks"]["index"] == "ok"


def test_readyz_is_not_ready_before_any_paper_is_ingested(
    settings: Settings, make_services: MakeServices
) -> None:
    with TestClient(create_app(settings, services=make_services(settings))) as empty:
        response = empty.get("/readyz")
        assert empty.get("/healthz").status_code == 200  # alive all the same
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["chroma"] == "ok"
    assert "boardpapers ingest" in checks["index"]


@pytest.fixture
def broken_connection_collected() -> Iterator[None]:
    """chromadb's HTTP client (through httpcore) lets go of the connection a stopped server
    broke without closing its socket: it is collected after the test, where the warning that
    would say so is expected, rather than reported at the end of the session."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.mark.usefixtures("broken_connection_collected")
def test_readyz_names_a_chroma_server_that_has_gone(
    tmp_path: Path, make_services: MakeServices
) -> None:
    port = free_port()
    command = [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(tmp_path / "db")]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    settings = Settings(
        data_dir=tmp_path / "data", chroma_mode="server", chroma_host="127.0.0.1", chroma_port=port
    )
    heartbeat = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    with running_server(command, heartbeat, tmp_path / "chroma.log", timeout=60):
        chroma = make_chroma_client(settings)
        services = make_services(settings, chroma_client=chroma)
        assert ingest_paths([make_pdf(tmp_path / "libraries.pdf", "libraries")], services.index).ok
        with TestClient(create_app(settings, services=services)) as served:
            assert served.get("/readyz").json() == {
                "status": "ready",
                "checks": {"chroma": "ok", "index": "ok"},
            }
    try:
        with TestClient(create_app(settings, services=services)) as served:  # server stopped
            response = served.get("/readyz")
    finally:
        chroma.close()
    assert response.status_code == 503
    assert response.json()["checks"]["chroma"].startswith(
        f"Chroma (the server at 127.0.0.1:{port}) does not answer"
    )


# --- /metrics -----------------------------------------------------------------------------


def test_metrics_count_requests_by_route_template_and_time_the_search(
    client: TestClient,
) -> None:
    before = scrape(client.get("/metrics").text)
    assert client.post("/search", json={"query": "domestic abuse", "k": 3}).status_code == 200
    doc_id = client.get("/documents").json()[0]["id"]
    assert client.get(f"/documents/{doc_id}").status_code == 200
    assert client.get("/documents/no-such-paper").status_code == 404
    assert client.get(f"/no/such/{doc_id}").status_code == 404
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = scrape(response.text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    search = {"method": "POST", "route": "/search", "status": "200"}
    assert grew("boardpapers_http_requests_total", **search) == 1
    assert grew("boardpapers_http_request_duration_seconds_count", **search) == 1
    assert grew("boardpapers_retrieval_duration_seconds_count", route="/search") == 1
    assert value(after, "boardpapers_retrieval_duration_seconds_sum", route="/search") > 0
    one_paper = {"method": "GET", "route": "/documents/{doc_id}"}
    assert grew("boardpapers_http_requests_total", **one_paper, status="200") == 1
    assert grew("boardpapers_http_requests_total", **one_paper, status="404") == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert grew("boardpapers_http_requests_total", **unmatched) == 1
    routes = {dict(labels).get("route") for _, labels in after}
    assert not any(doc_id in str(route) for route in routes), routes  # templates, never paths


def test_metrics_read_the_index_size_from_the_manifest(client: TestClient) -> None:
    documents = client.get("/documents").json()
    samples = scrape(client.get("/metrics").text)
    assert value(samples, "boardpapers_index_documents") == len(documents)
    assert value(samples, "boardpapers_index_chunks") == sum(doc["chunks"] for doc in documents)
    assert value(samples, "boardpapers_index_changes_total") >= len(documents)
    last_ingest = value(samples, "boardpapers_index_last_ingest_timestamp_seconds")
    assert 0 < time.time() - last_ingest < 365 * 24 * 3600


def test_metrics_time_answers_streamed_or_not(client: TestClient) -> None:
    before = scrape(client.get("/metrics").text)
    assert client.post("/ask", json={"question": ANSWERABLE}).status_code == 200
    with client.stream("POST", "/ask/stream", json={"question": ANSWERABLE}) as stream:
        assert "event: done" in "".join(stream.iter_text())
    after = scrape(client.get("/metrics").text)
    for route in ("/ask", "/ask/stream"):
        for stage in ("retrieval", "answer"):
            name = f"boardpapers_{stage}_duration_seconds_count"
            assert value(after, name, route=route) - value(before, name, route=route) == 1


@pytest.mark.faults
def test_metrics_count_the_requests_turned_away_for_want_of_a_work_slot(
    corpus_settings: Settings, corpus_services: Services, tmp_path: Path
) -> None:
    busy = corpus_settings.model_copy(
        update={"data_dir": tmp_path, "work_slots": 1, "work_wait_seconds": 0.0}
    )
    statuses: list[int] = []
    with TestClient(create_app(busy, services=corpus_services)) as client:

        def ask() -> None:
            statuses.append(client.post("/ask", json={"question": ANSWERABLE}).status_code)

        threads = [threading.Thread(target=ask) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        samples = scrape(client.get("/metrics").text)
    assert 503 in statuses, statuses
    assert value(samples, "boardpapers_work_slot_rejections_total") == statuses.count(503)
    refused = {"method": "POST", "route": "/ask", "status": "503"}
    assert value(samples, "boardpapers_http_requests_total", **refused) == statuses.count(503)


def test_metrics_are_for_an_admin_key_once_keys_exist(
    corpus_settings: Settings, corpus_services: Services, tmp_path: Path
) -> None:
    settings = corpus_settings.model_copy(update={"data_dir": tmp_path})
    keys = KeyStore(settings.access_db_path)
    admin, officer = keys.create("ops", "admin")[1], keys.create("team", "officer")[1]
    with TestClient(create_app(settings, services=corpus_services)) as client:
        assert client.get("/metrics").status_code == 401
        as_officer = client.get("/metrics", headers={"Authorization": f"Bearer {officer}"})
        assert as_officer.status_code == 403
        as_admin = client.get("/metrics", headers={"Authorization": f"Bearer {admin}"})
        assert as_admin.status_code == 200
        assert client.get("/readyz").status_code == 200  # the probes stay open
    assert value(scrape(as_admin.text), "boardpapers_http_requests_total",
                 method="GET", route="/metrics", status="401") == 1  # fmt: skip


# --- serving: the command and `make` ------------------------------------------------------


def test_serve_refuses_fewer_than_one_worker(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(settings.data_dir), "serve", "--workers", "0"]) == 2
    assert "at least one worker" in capsys.readouterr().err


def test_make_serves_on_the_port_and_host_given_on_its_command_line() -> None:
    def serve_line(*arguments: str, **environment: str) -> str:
        shown = subprocess.run(
            ["make", "-n", "serve", *arguments], cwd=ROOT, capture_output=True, text=True,
            env={**os.environ, **environment}, check=True,
        ).stdout  # fmt: skip
        return next(line for line in shown.splitlines() if " serve " in line)

    assert serve_line().endswith("serve --host 127.0.0.1 --port 8000")
    assert serve_line("PORT=8123", "HOST=0.0.0.0").endswith("serve --host 0.0.0.0 --port 8123")
    # a PORT or HOST the environment happens to hold (a PaaS's, a shell's) is not taken
    assert serve_line(PORT="9999", HOST="example").endswith("--host 127.0.0.1 --port 8000")


# --- `boardpapers serve --workers 2` with JSON logs ------------------------------------------


@dataclasses.dataclass
class Served:
    url: str
    log: Path


@pytest.fixture(scope="module")
def two_workers(
    tmp_path_factory: pytest.TempPathFactory, embeddings: BundledEmbeddings
) -> Iterator[Served]:
    """`boardpapers serve --workers 2` with JSON logs, over one small paper, on a free port,
    once it answers `/readyz`. Once it has stopped, its log is still all JSON (no warning from
    a library as the workers shut down)."""
    root = tmp_path_factory.mktemp("workers")
    settings = Settings(data_dir=root / "data")
    services = build_services(settings, embeddings=embeddings)
    assert ingest_paths([make_pdf(root / "libraries.pdf", "libraries")], services.index).ok
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [*boardpapers_command(), "--data-dir", str(settings.data_dir), "serve"]
    command += ["--port", str(port), "--workers", "2"]
    env = clean_environment(BOARDPAPERS_LOG_FORMAT="json")
    served = Served(url, root / "serve.log")
    with running_server(command, f"{url}/readyz", served.log, timeout=240, env=env):
        yield served
    assert "Stopping parent process" in log_lines(served)[-1]["message"]


def log_lines(served: Served) -> list[dict[str, Any]]:
    return [json.loads(line) for line in served.log.read_text().splitlines() if line.strip()]


def access_lines(served: Served, path: str) -> list[dict[str, Any]]:
    return [
        line
        for line in log_lines(served)
        if line.get("logger") == "boardpapers.access" and line.get("path") == path
    ]


def logged(served: Served, path: str, count: int) -> list[dict[str, Any]]:
    """The access lines for `path` once there are `count` of them (each is written, after its
    request is counted, once the response is sent)."""
    deadline = time.monotonic() + 10
    while len(lines := access_lines(served, path)) < count:
        assert time.monotonic() < deadline, f"{len(lines)} access lines for {path}, not {count}"
        time.sleep(0.05)
    return lines


def test_two_workers_answer_on_a_real_port_and_metrics_sum_both(two_workers: Served) -> None:
    """Requests on new connections until each worker has answered some (the access lines say
    which process did); a scrape, answered by one of them, counts all."""
    sent = 0
    deadline = time.monotonic() + 180
    while True:
        assert httpx.get(f"{two_workers.url}/documents", timeout=30).status_code == 200
        sent += 1
        pids = {line["pid"] for line in access_lines(two_workers, "/documents")}
        if len(pids) == 2 and sent >= 6:
            break
        assert time.monotonic() < deadline, f"one worker answered all {sent}: {pids}"
        time.sleep(0.1)
    logged(two_workers, "/documents", sent)
    samples = scrape(httpx.get(f"{two_workers.url}/metrics", timeout=30).text)
    documents = {"method": "GET", "route": "/documents", "status": "200"}
    assert value(samples, "boardpapers_http_requests_total", **documents) == sent
    assert value(samples, "boardpapers_index_documents") == 1


def test_json_logs_are_one_object_a_line(two_workers: Served) -> None:
    assert httpx.get(f"{two_workers.url}/healthz", timeout=30).status_code == 200
    health = logged(two_workers, "/healthz", 1)[0]
    lines = log_lines(two_workers)  # json.loads fails on any line that is not one object
    assert all(line.keys() >= {"time", "level", "logger", "pid", "message"} for line in lines)
    started = [line for line in lines if "Started server process" in line["message"]]
    assert len({line["pid"] for line in started}) == 2, started  # uvicorn's own, in JSON
    assert health["method"] == "GET"
    assert health["status"] == 200
    assert health["route"] == "/healthz"
    assert health["duration_ms"] >= 0
