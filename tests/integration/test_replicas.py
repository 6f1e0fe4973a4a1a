"""Several replicas, one truth (issue 21): two `boardpapers serve` processes, each with a data
folder of its own, share a real Chroma server (`chroma run`) and a real PostgreSQL. A paper
ingested through one is answered by the other within seconds, without a restart; a key made
on one opens the other; a paper removed through one is gone from both.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from papers import make_pdf

from service.cli.subprocess_server import boardpapers_serving

SERVE_DEADLINE = 300.0  # seconds to answer /healthz: a guard against hanging, not a figure
SEEN_WITHIN = 10.0  # seconds for a change through one replica to show in the other
QUESTION = "How many library contacts were recorded in quarter 3?"


def _found(url: str, headers: dict[str, str]) -> list[str]:
    reply = httpx.post(f"{url}/search", json={"query": QUESTION}, headers=headers, timeout=60)
    assert reply.status_code == 200, reply.text
    return [result["document"]["id"] for result in reply.json()["results"]]


def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


def test_a_paper_ingested_through_one_replica_is_answered_by_the_other(
    tmp_path: Path, chroma_server: tuple[str, int], postgres_database: str
) -> None:
    host, port = chroma_server
    shared = {
        "BOARDPAPERS_CHROMA_MODE": "server",
        "BOARDPAPERS_CHROMA_HOST": host,
        "BOARDPAPERS_CHROMA_PORT": str(port),
        "BOARDPAPERS_COLLECTION": f"replicas-{uuid.uuid4().hex[:12]}",
        "BOARDPAPERS_DATABASE_URL": postgres_database,
    }
    papers = tmp_path / "papers"
    papers.mkdir()
    make_pdf(papers / "library-report.pdf", "library")
    with ExitStack() as stack:
        first, second = (
            stack.enter_context(
                boardpapers_serving(
                    tmp_path / name, tmp_path / f"{name}.log", timeout=SERVE_DEADLINE,
                    settings=shared,
                )
            )[0]
            for name in ("replica-a", "replica-b")
        )  # fmt: skip
        assert httpx.get(f"{second}/documents").json() == []

        ingested = httpx.post(f"{first}/admin/ingest", json={"paths": [str(papers)]}, timeout=300)
        assert ingested.status_code == 200, ingested.text
        files: list[dict[str, Any]] = ingested.json()["files"]
        assert [(f["doc_id"], f["outcome"]) for f in files] == [("library-report", "added")]

        assert _within(SEEN_WITHIN, lambda: "library-report" in _found(second, {}))
        listed = httpx.get(f"{second}/documents").json()
        assert [(d["id"], d["chunks"]) for d in listed] == [("library-report", files[0]["chunks"])]
        answer = httpx.post(f"{second}/ask", json={"question": QUESTION}, timeout=60).json()
        assert [c["document"]["id"] for c in answer["citations"]] == ["library-report"] * len(
            answer["citations"]
        )
        assert answer["citations"], answer

        # The first key made on one replica closes both, and opens both.
        made = httpx.post(f"{first}/admin/keys", json={"name": "ops", "role": "admin"})
        assert made.status_code == 201, made.text
        admin = {"Authorization": f"Bearer {made.json()['key']}"}
        assert _within(SEEN_WITHIN, lambda: httpx.get(f"{second}/documents").status_code == 401)
        assert _found(second, admin)[0] == "library-report"

        removed = httpx.delete(f"{second}/documents/library-report", headers=admin, timeout=60)
        assert removed.status_code == 200, removed.text
        assert _within(SEEN_WITHIN, lambda: "library-report" not in _found(first, admin))
