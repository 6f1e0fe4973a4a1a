"""Hostile input and backpressure (issue 19, items 5 and 6), over real HTTP: a body that never
arrives whole, questions and themes past their limits, and a streamed answer holding a work
slot until it is sent or its client has gone."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from service.answers.llm import LLMAnswerer
from service.api.app import create_app
from service.container import Services
from service.settings import Settings

pytestmark = pytest.mark.faults

ANSWERABLE = "What was the adult re-offending rate in Oxfordshire in 2014?"


@contextmanager
def serving(app: Any) -> Iterator[tuple[str, int]]:
    """`app` served by a real uvicorn on a free loopback port, in a thread."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn exited"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield host, port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _reply_until_closed(sock: socket.socket, wait: float) -> tuple[bytes, bool]:
    """What the server sent within `wait` seconds, and whether it closed the connection."""
    sock.settimeout(wait)
    reply = b""
    try:
        while chunk := sock.recv(65536):
            reply += chunk
    except TimeoutError:
        return reply, False
    return reply, True


HEADERS = (
    b"POST /search HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100\r\n\r\n"
)


@pytest.mark.parametrize("trickled", [False, True], ids=["stops-short", "trickles"])
def test_a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_closes(
    corpus_settings: Settings, corpus_services: Services, trickled: bool
) -> None:
    settings = corpus_settings.model_copy(update={"read_timeout_seconds": 1.0})
    with (
        serving(create_app(settings, services=corpus_services)) as (host, port),
        socket.create_connection((host, port)) as sock,
    ):
        start = time.monotonic()
        sock.sendall(HEADERS + b'{"query": "domestic')  # 19 of the 100 bytes announced
        if trickled:  # a byte every 0.2 s: each arrives well within the time-out
            for _ in range(15):
                time.sleep(0.2)
                try:
                    sock.sendall(b" ")
                except OSError:  # closed by the server: what should happen
                    break
        reply, closed = _reply_until_closed(sock, wait=5.0)
        elapsed = time.monotonic() - start
    assert reply.startswith(b"HTTP/1.1 408"), reply or "no reply within 5 s"
    assert b"BOARDPAPERS_READ_TIMEOUT_SECONDS" in reply
    assert closed, "the connection was left open"
    assert elapsed < 4.0


@pytest.fixture(scope="module")
def client(corpus_settings: Settings, corpus_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(corpus_settings, services=corpus_services)) as client:
        yield client


@pytest.mark.parametrize(
    ("route", "field", "limit"),
    [("/ask", "question", 1_000), ("/ask/stream", "question", 1_000), ("/themes", "theme", 200)],
)
def test_a_question_or_theme_past_its_limit_gets_422_saying_the_limit(
    client: TestClient, route: str, field: str, limit: int
) -> None:
    too_long = ("domestic abuse services " * 100)[:limit] + "s"
    response = client.post(route, json={field: too_long})
    assert response.status_code == 422, response.text[:300]
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert f"over the limit of {limit:,}" in error["msg"]
    assert f"BOARDPAPERS_MAX_{field.upper()}_CHARS" in error["msg"]
    at_limit = too_long[:limit]
    assert client.post(route, json={field: at_limit}).status_code == 200


class SlowFakeChatModel(GenericFakeChatModel):
    """Streams its reply a piece at a time, `delay` seconds apart, as a slow model does."""

    delay: float = 0.05

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for chunk in super()._stream(*args, **kwargs):
            time.sleep(self.delay)
            yield chunk


def test_a_streamed_answer_holds_a_work_slot_until_its_client_goes(
    corpus_services: Services, settings: Settings
) -> None:
    one_slot = settings.model_copy(update={"work_slots": 1, "work_wait_seconds": 0.0})
    # ~200 pieces 0.05 s apart: the answer streams for ~10 s unless its client goes
    model = SlowFakeChatModel(messages=iter([AIMessage("The rate fell [1]. " * 50)]))
    answerer = LLMAnswerer(corpus_services.index, one_slot, model)
    services = dataclasses.replace(corpus_services, settings=one_slot, answerer=answerer, llm=model)
    streaming, leave, seen = threading.Event(), threading.Event(), []
    with serving(create_app(one_slot, services=services)) as (host, port):
        url = f"http://{host}:{port}"

        def listen() -> None:
            with (
                httpx.Client(base_url=url, timeout=30) as stream_client,
                stream_client.stream("POST", "/ask/stream", json={"question": ANSWERABLE}) as reply,
            ):
                for line in reply.iter_lines():
                    seen.append(line)
                    if line == "event: delta":
                        streaming.set()
                    if leave.is_set():
                        return  # leaves mid-stream: the connection is closed unread

        listener = threading.Thread(target=listen)
        listener.start()
        try:
            assert streaming.wait(30), f"no delta came: {seen[:5]}"
            search = {"query": "re-offending rate"}
            assert httpx.post(url + "/search", json=search).status_code == 503
            leave.set()
            listener.join(10)
            left = time.monotonic()
            while (status := httpx.post(url + "/search", json=search).status_code) == 503:
                assert time.monotonic() - left < 3.0, "the slot was not given back"
                time.sleep(0.05)
        finally:
            leave.set()
            listener.join(10)
    assert status == 200
    assert "event: done" not in seen  # it was left, not finished


def test_a_bounded_load_of_eight_clients_gets_no_errors(
    corpus_settings: Settings, corpus_services: Services, tmp_path: Any
) -> None:
    """Eight clients at once, each asking and searching in turn, over real HTTP: every request
    answered (the work slots make some wait their turn, within the wait allowed)."""
    settings = corpus_settings.model_copy(update={"data_dir": tmp_path / "app"})
    statuses: list[int] = []
    lock = threading.Lock()

    def client(host: str, port: int, n: int) -> None:
        with httpx.Client(base_url=f"http://{host}:{port}", timeout=60) as http:
            for i in range(4):
                if (n + i) % 3:
                    reply = http.post("/search", json={"query": ANSWERABLE, "k": 5})
                else:
                    reply = http.post("/ask", json={"question": ANSWERABLE})
                with lock:
                    statuses.append(reply.status_code)

    with serving(create_app(settings, services=corpus_services)) as (host, port):
        clients = [threading.Thread(target=client, args=(host, port, n)) for n in range(8)]
        for each in clients:
            each.start()
        for each in clients:
            each.join(timeout=300)
    assert len(statuses) == 32
    assert [s for s in statuses if s != 200] == []
