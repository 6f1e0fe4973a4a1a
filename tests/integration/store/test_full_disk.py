"""A full data disk (issue 19, item 7): searches and answers go on, over HTTP and from the
command line, and writes fail saying what to do.

Each test mounts a small tmpfs of its own for the data folder (we run as root here and in CI)
and fills it with a file. Papers are synced in a thread of their own, which closes its
connections when it ends, so what follows opens the stores as a fresh process would.
"""

from __future__ import annotations

import errno
import gc
import json
import logging
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from conftest import KEY_POINTS, PROTOCOL
from fastapi.testclient import TestClient

from ingest.store.embeddings import BundledEmbeddings
from ingest.store.index import make_chroma_client
from ingest.sync import sync_folders
from service.api.app import create_app
from service.cli.subprocess_server import boardpapers_command, clean_environment
from service.container import build_services
from service.settings import Settings

pytestmark = pytest.mark.faults

QUESTION = "Who is the new community safety portfolio holder for Oxford City?"
DISK_FULL = "the data folder's disk is full: free space and run sync again"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs of the test's own, unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount_point)]
    mounted = subprocess.run(command, capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.fail(
            f"could not mount a small tmpfs at {mount_point} ({mounted.stderr.strip()}): "
            "the full-disk tests need root, or CAP_SYS_ADMIN in a container"
        )
    try:
        yield mount_point
    finally:
        # lazily: threads of the test client's pool may still hold a store open
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def fill(disk: Path) -> None:
    """Write a file until the disk has no byte left."""
    with (disk / "filler").open("wb", buffering=0) as filler:
        for size in (1 << 20, 1 << 12, 1):
            while _wrote(filler, bytes(size)):
                pass
    assert shutil.disk_usage(disk).free == 0


def _wrote(file: BinaryIO, data: bytes) -> bool:
    try:
        file.write(data)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        return False
    return True


def synced(settings: Settings, embeddings: BundledEmbeddings, folder: Path) -> dict[str, str]:
    """`folder` synced into `settings.data_dir`, in a thread whose connections end with it and
    with a Chroma client closed after; the ids of the papers by file name."""
    ids: dict[str, str] = {}

    def sync() -> None:
        client = make_chroma_client(settings)
        try:
            services = build_services(settings, embeddings=embeddings, chroma_client=client)
            report = sync_folders([folder], services.index)
            assert report.ok, report.files
            ids.update({d.meta.source: d.meta.doc_id for d in services.index.documents()})
        finally:
            client.close()

    thread = threading.Thread(target=sync)
    thread.start()
    thread.join()
    assert ids, "the sync failed (its traceback is above)"
    gc.collect()  # the stores' connections are held in reference cycles
    assert not list(settings.data_dir.glob("*-shm")), "a connection is still open"
    return ids


def papers(tmp_path: Path, *pdfs: Path) -> Path:
    folder = tmp_path / "papers"
    folder.mkdir(exist_ok=True)
    for pdf in pdfs:
        shutil.copy(pdf, folder / pdf.name)
    return folder


def events(text: str) -> list[tuple[str, dict[str, Any]]]:
    names = [line.removeprefix("event: ") for line in text.splitlines() if line.startswith("ev")]
    data = [
        json.loads(line.removeprefix("data: ")) for line in text.splitlines() if line[:5] == "data:"
    ]
    return list(zip(names, data, strict=True))


def test_a_service_started_on_a_full_disk_searches_and_answers(
    disk: Path, tmp_path: Path, embeddings: BundledEmbeddings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=disk / "data")
    synced(settings, embeddings, papers(tmp_path, KEY_POINTS, PROTOCOL))
    fill(disk)
    caplog.set_level(logging.WARNING)

    with TestClient(create_app(settings, embeddings=embeddings)) as client:
        found = client.post("/search", json={"query": QUESTION, "k": 3})
        asked = client.post("/ask", json={"question": QUESTION})
        streamed = client.post("/ask/stream", json={"question": QUESTION})
        themes = client.post("/themes", json={"theme": "domestic abuse"})
        listed = client.get("/documents")

    assert found.status_code == 200, found.text
    assert "Tom Hayes" in found.json()["results"][0]["text"]
    assert asked.status_code == 200, asked.text
    assert "Tom Hayes" in asked.json()["answer"]
    assert asked.json()["conversation_id"] is None  # none could be kept
    assert streamed.status_code == 200
    [*_, (last, done)] = events(streamed.text)
    assert last == "done", done
    assert done["answer"] == asked.json()["answer"]
    assert themes.status_code == 200, themes.text
    assert themes.json()["documents"]
    assert len(listed.json()) == 2
    assert f"{DISK_FULL}; a new conversation is not kept" in caplog.text


def test_a_running_service_reads_on_after_another_process_wrote_and_the_disk_filled(
    disk: Path, tmp_path: Path, embeddings: BundledEmbeddings
) -> None:
    settings = Settings(data_dir=disk / "data")
    ids = synced(settings, embeddings, papers(tmp_path, KEY_POINTS, PROTOCOL))
    with TestClient(create_app(settings, embeddings=embeddings)) as client:
        first = client.post("/ask", json={"question": QUESTION})
        assert first.status_code == 200, first.text
        # Another process changes what is live: the service re-opens its Chroma client
        # at its next search, by then on a full disk.
        removed = subprocess.run(
            [*boardpapers_command(), "--data-dir", str(settings.data_dir), "remove",
             ids[PROTOCOL.name]],
            env=clean_environment(), cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert removed.returncode == 0, removed.stderr
        fill(disk)
        found = client.post("/search", json={"query": "partnership protocol", "k": 5})
        follow_up = client.post(
            "/ask",
            json={
                "question": "and who chairs it?",
                "conversation_id": first.json()["conversation_id"],
            },
        )
    assert found.status_code == 200, found.text
    shown = {result["document"]["id"] for result in found.json()["results"]}
    assert shown == {ids[KEY_POINTS.name]}  # the removed paper is gone from the vectors too
    assert follow_up.status_code == 200, follow_up.text
    assert follow_up.json()["answer"]


def boardpapers(data_dir: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*boardpapers_command(), "--data-dir", str(data_dir), *argv],
        env=clean_environment(), cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_command_line_reads_on_a_full_disk_and_a_sync_says_to_free_space(
    disk: Path, tmp_path: Path, embeddings: BundledEmbeddings
) -> None:
    settings = Settings(data_dir=disk / "data")
    folder = papers(tmp_path, KEY_POINTS)
    synced(settings, embeddings, folder)
    fill(disk)

    searched = boardpapers(settings.data_dir, "search", "-k", "2", QUESTION, cwd=tmp_path)
    asked = boardpapers(settings.data_dir, "ask", QUESTION, cwd=tmp_path)
    papers(tmp_path, PROTOCOL)  # a new paper to sync
    sync = boardpapers(settings.data_dir, "sync", "--quiet", str(folder), cwd=tmp_path)

    assert searched.returncode == 0, searched.stderr
    assert "Tom Hayes" in searched.stdout
    assert "Traceback" not in searched.stderr
    assert asked.returncode == 0, asked.stderr
    assert "Tom Hayes" in asked.stdout
    assert sync.returncode == 1, sync.stdout + sync.stderr
    [failed] = [line for line in sync.stdout.splitlines() if line.startswith("failed")]
    assert PROTOCOL.name in failed
    assert DISK_FULL in failed

    (disk / "filler").unlink()  # room again: the next sync adds the paper
    assert set(synced(settings, embeddings, folder)) == {KEY_POINTS.name, PROTOCOL.name}
