"""`boardpapers ask` and `search` through a running service (`BOARDPAPERS_SERVICE_URL`): a real
`boardpapers serve` (uvicorn) subprocess over a small ingested index, and the real command run
as a subprocess against it; and the numpy model one-shot `ask` and `search` embed with."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import KEY_POINTS

from ingest.pipeline import ingest_paths
from ingest.store.embeddings import BundledEmbeddings
from service.cli.main import main
from service.cli.subprocess_server import (
    boardpapers_command,
    boardpapers_serving,
    clean_environment,
    free_port,
)
from service.container import build_services
from service.embedding.light import LightEmbeddings
from service.settings import Settings

QUESTION = "Who is the new community safety portfolio holder for Oxford City?"
SERVE_DEADLINE = 300.0  # seconds to answer /healthz: a guard against hanging, not a figure


def _boardpapers_run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*boardpapers_command(), *argv], env=clean_environment(**env), cwd=cwd,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@dataclass(frozen=True)
class Served:
    url: str
    data_dir: Path  # the index the service answers from
    title: str  # of the one paper in it


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, embeddings: BundledEmbeddings
) -> Iterator[Served]:
    """One small paper ingested, and `boardpapers serve` over it on a free loopback port."""
    folder = tmp_path_factory.mktemp("served")
    data_dir = folder / "data"
    services = build_services(Settings(data_dir=data_dir), embeddings=embeddings)
    report = ingest_paths([KEY_POINTS], services.index)
    assert report.ok, report.files
    [paper] = services.index.documents()

    log = folder / "serve.log"
    with boardpapers_serving(data_dir, log, timeout=SERVE_DEADLINE, cwd=folder) as (url, _):
        yield Served(url, data_dir, paper.meta.title)


def test_ask_through_the_service_prints_the_cited_answer(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An empty data folder: the answer can only come from the service.
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = ["--data-dir", str(empty), "ask", QUESTION]
    done = _boardpapers_run(argv, tmp_path, BOARDPAPERS_SERVICE_URL=served.url)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no library noise
    answer, _, sources = done.stdout.partition("Sources:")
    assert "Tom Hayes" in answer
    assert "[1]" in answer
    [cited] = [line for line in sources.splitlines() if line.startswith("[1] ")]
    assert cited.startswith(f"[1] {served.title} — ")
    assert " — p. " in cited
    assert "Tom Hayes" in sources.split(cited, 1)[1]  # its verbatim quote, on the next line
    assert list(empty.iterdir()) == []  # nothing opened an index here

    # The same as answering in this process, from the index the service serves.
    assert main(["--data-dir", str(served.data_dir), "ask", QUESTION]) == 0
    assert capsys.readouterr().out == done.stdout


def test_ask_json_through_the_service_is_the_in_process_json(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = _boardpapers_run(["ask", "--json", QUESTION], tmp_path,
                            BOARDPAPERS_SERVICE_URL=served.url + "/")  # fmt: skip
    assert done.returncode == 0, done.stderr
    response = json.loads(done.stdout)
    assert response["answered"] is True
    assert {c["document"]["title"] for c in response["citations"]} == {served.title}

    assert main(["--data-dir", str(served.data_dir), "ask", "--json", QUESTION]) == 0
    assert json.loads(capsys.readouterr().out) == response


def test_search_through_the_service_prints_what_search_in_process_does(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = _boardpapers_run(["search", "-k", "2", QUESTION], tmp_path,
                            BOARDPAPERS_SERVICE_URL=served.url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"[1] {served.title} (")
    assert "Tom Hayes" in done.stdout

    assert main(["--data-dir", str(served.data_dir), "search", "-k", "2", QUESTION]) == 0
    assert capsys.readouterr().out == done.stdout


def test_an_unreachable_service_says_what_to_do(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    for command in (["ask", QUESTION], ["search", QUESTION]):
        done = _boardpapers_run(command, tmp_path, BOARDPAPERS_SERVICE_URL=url)

        assert done.returncode != 0
        assert done.stdout == ""
        message = done.stderr.strip()
        assert message.startswith(f"The service at {url} does not answer"), message
        assert "start it with `boardpapers serve`" in message
        assert "unset BOARDPAPERS_SERVICE_URL" in message
        assert "Traceback" not in message


def test_the_numpy_model_gives_the_bundled_models_vectors(
    embeddings: BundledEmbeddings,
) -> None:
    """`ask` and `search` embed with `LightEmbeddings`; the index holds `BundledEmbeddings`'
    vectors: the two must agree to float32 rounding, whatever the text's length."""
    texts = [
        QUESTION,
        "RESOLVED: that the Board approves the Joint Health and Wellbeing Strategy 2024/25.",
        "Well-being, wellbeing; £3.4m (+14%) naïve CAFÉ",
        "word " * 400,  # cut at the model's 256 word-pieces
        "",
        "x",
    ]
    light = LightEmbeddings(batch_size=4)
    mine, theirs = (
        np.asarray(light.embed_documents(texts)),
        np.asarray(embeddings.embed_documents(texts)),
    )
    assert mine.shape == theirs.shape
    assert np.abs(mine - theirs).max() < 1e-5
    assert light.embed_query(QUESTION) == light.embed_documents([QUESTION])[0]
    tokenizer = embeddings.tokenizer
    for text in texts:
        expected = tokenizer(text, truncation=True, max_length=256)["input_ids"]
        assert light.tokenizer.encode(text).ids == expected
