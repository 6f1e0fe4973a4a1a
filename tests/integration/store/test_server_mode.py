"""The index behaves the same on a real Chroma server (`chroma run`) as embedded on disk.

One test body per behaviour, parametrised over the two modes (ragna-style): the server
variant is marked `server` and talks to the session's `chroma_server` over HTTP.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY_POINTS, PROTOCOL

from ingest.pipeline import Outcome, ingest_paths
from ingest.reading.metadata import document_id
from ingest.store.index import SearchFilters, make_chroma_client
from service.container import Services, build_services
from service.settings import Settings

KEY_POINTS_ID = document_id(KEY_POINTS)
PROTOCOL_ID = document_id(PROTOCOL)

# (question, document, page) — facts read off the PDFs themselves.
KNOWN_FACTS = [
    ("Who is the new community safety portfolio holder for Oxford City?", KEY_POINTS_ID, 1),
    ("What is the officer-led Business Group now known as?", PROTOCOL_ID, 1),
    ("Which joint priorities does the OSAB share with the OSCB?", KEY_POINTS_ID, 2),
]

MODES = ["embedded", pytest.param("server", marks=pytest.mark.server)]


def _settings_for(mode: str, data_dir: Path, request: pytest.FixtureRequest) -> Settings:
    if mode == "embedded":
        return Settings(data_dir=data_dir)
    host, port = request.getfixturevalue("chroma_server")
    # The server outlives each test: a collection of its own keeps tests apart.
    return Settings(
        data_dir=data_dir,
        chroma_mode="server",
        chroma_host=host,
        chroma_port=port,
        collection=f"test-{uuid.uuid4().hex[:12]}",
    )


def _index_two_papers(mode: str, data_dir: Path, request: pytest.FixtureRequest) -> Services:
    """The key points and the protocol, ingested into a fresh index in the given mode."""
    services = build_services(
        _settings_for(mode, data_dir, request), embeddings=request.getfixturevalue("embeddings")
    )
    report = ingest_paths([KEY_POINTS, PROTOCOL], services.index)
    assert report.ok, report.files
    assert [f.outcome for f in report.files] == [Outcome.ADDED, Outcome.ADDED]
    return services


@pytest.fixture(scope="module")
def read_only_indexes() -> dict[str, Services]:
    """One index per mode for the tests that only read, built on first use."""
    return {}


@pytest.fixture(params=MODES)
def two_paper_index(
    request: pytest.FixtureRequest,
    read_only_indexes: dict[str, Services],
    tmp_path_factory: pytest.TempPathFactory,
) -> Services:
    """A shared index of the two papers: tests using it must not write."""
    return _shared_index(request.param, read_only_indexes, tmp_path_factory, request)


def _shared_index(
    mode: str,
    cache: dict[str, Services],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Services:
    if mode not in cache:
        cache[mode] = _index_two_papers(
            mode, tmp_path_factory.mktemp(f"two-papers-{mode}"), request
        )
    return cache[mode]


@pytest.fixture(params=MODES)
def writable_index(request: pytest.FixtureRequest, tmp_path: Path) -> Services:
    """An index of the two papers of this test's own."""
    return _index_two_papers(request.param, tmp_path / "data", request)


def _collection(settings: Settings) -> Any:
    """The store's collection seen through a client of our own, not the index's."""
    return make_chroma_client(settings).get_collection(settings.collection)


def test_vectors_live_where_the_mode_says(two_paper_index: Services) -> None:
    settings = two_paper_index.settings
    stored_chunks = sum(doc.chunk_count for doc in two_paper_index.index.documents())
    assert stored_chunks > 0
    assert _collection(settings).count() == stored_chunks
    # A server-mode index must not quietly fall back to an on-disk Chroma store.
    assert settings.chroma_path.exists() == (settings.chroma_mode == "embedded")


@pytest.mark.parametrize(("question", "doc_id", "page"), KNOWN_FACTS)
def test_known_fact_is_in_the_top_three(
    two_paper_index: Services, question: str, doc_id: str, page: int
) -> None:
    hits = two_paper_index.retriever.search(question, k=3)
    assert any(
        hit.chunk.doc_id == doc_id and hit.chunk.page <= page <= hit.chunk.page_end for hit in hits
    ), [(h.chunk.doc_id, h.chunk.page, h.chunk.text[:80]) for h in hits]


def test_filter_excludes_a_document(two_paper_index: Services) -> None:
    question = "What is the officer-led Business Group now known as?"
    unfiltered = two_paper_index.retriever.search(question, k=5)
    assert unfiltered[0].chunk.doc_id == PROTOCOL_ID

    only_key_points = SearchFilters(documents=(KEY_POINTS_ID,))
    hits = two_paper_index.retriever.search(question, k=5, filters=only_key_points)
    assert hits, "the filtered search found nothing"
    assert {hit.chunk.doc_id for hit in hits} == {KEY_POINTS_ID}

    # The protocol is dated 2016-05-12, the key points 2017-07-05.
    before_2017 = SearchFilters(date_to="2016-12-31")
    hits = two_paper_index.retriever.search(
        "Who is the new community safety portfolio holder?", k=5, filters=before_2017
    )
    assert hits, "the filtered search found nothing"
    assert {hit.chunk.doc_id for hit in hits} == {PROTOCOL_ID}


def test_reingesting_unchanged_files_embeds_nothing(writable_index: Services) -> None:
    index = writable_index.index
    before = _collection(writable_index.settings).count()
    report = ingest_paths([KEY_POINTS, PROTOCOL], index)
    assert [f.outcome for f in report.files] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
    assert report.embedded_chunks == 0
    assert _collection(writable_index.settings).count() == before


def test_remove_deletes_the_vectors_from_the_collection(writable_index: Services) -> None:
    index = writable_index.index
    collection = _collection(writable_index.settings)
    protocol_chunks = len(collection.get(where={"doc_id": PROTOCOL_ID})["ids"])
    assert protocol_chunks > 0
    before = collection.count()

    assert index.remove_document(PROTOCOL_ID)
    index.refresh_keyword_index()

    assert collection.get(where={"doc_id": PROTOCOL_ID})["ids"] == []
    assert collection.count() == before - protocol_chunks
    assert index.document(PROTOCOL_ID) is None
    hits = writable_index.retriever.search(
        "What is the officer-led Business Group now known as?", k=5
    )
    assert hits, "the key points should still be searchable"
    assert PROTOCOL_ID not in {hit.chunk.doc_id for hit in hits}


@pytest.mark.server
def test_server_and_embedded_rank_alike(
    request: pytest.FixtureRequest,
    read_only_indexes: dict[str, Services],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The same files and questions give the same ranking whichever store holds the vectors."""
    rankings: dict[str, list[list[str]]] = {}
    for mode in ("embedded", "server"):
        retriever = _shared_index(mode, read_only_indexes, tmp_path_factory, request).retriever
        rankings[mode] = [
            [hit.chunk.chunk_id for hit in retriever.search(question, k=5)]
            for question, _, _ in KNOWN_FACTS
        ]
    assert all(rankings["embedded"]), rankings
    assert rankings["server"] == rankings["embedded"]
