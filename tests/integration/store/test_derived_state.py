"""The keyword index and the glossary are published whole, whoever else is writing or reading.

Several processes (a sync, the replicas' rebuilds) may save them at once while queries load
them: a writer must never trip over another's temporary files, and a reader must get either
nothing or one whole version, never ids that do not match the BM25 model behind them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.models import Chunk
from ingest.store.keyword_index import KeywordIndex
from ingest.text.acronyms import Glossary

ROUNDS = 12
THREADS = 4


def _chunks(count: int, topic: str) -> list[Chunk]:
    return [
        Chunk(
            f"{topic}-{n}",
            topic,
            "v1",
            n,
            f"Paragraph {n} on {topic} and its partners.",
            1,
            1,
            "",
            None,
            "paragraph",
            0,
            10,
        )  # fmt: skip
        for n in range(count)
    ]


def _run(workers: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # collected: the assertion below names them
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.faults
def test_concurrent_saves_and_loads_of_the_keyword_index_stay_whole(tmp_path: Path) -> None:
    folder = tmp_path / "keyword-index"
    versions = {1: KeywordIndex.build(_chunks(30, "abuse"), 1),
                2: KeywordIndex.build(_chunks(70, "housing"), 2)}  # fmt: skip
    versions[1].save(folder)
    loaded: list[KeywordIndex] = []

    def writer(generation: int) -> Callable[[], None]:
        def save() -> None:
            for _ in range(ROUNDS):
                versions[generation].save(folder)

        return save

    def reader() -> None:
        for _ in range(ROUNDS * 4):
            index = KeywordIndex.load(folder)
            if index is not None:
                loaded.append(index)

    workers = [writer(1 + n % 2) for n in range(THREADS)] + [reader] * THREADS
    errors = _run(workers)
    assert errors == []
    assert loaded, "no reader ever loaded an index"
    for index in loaded:  # each one whole: its ids are its generation's, its model agrees
        assert index.chunk_ids == versions[index.generation].chunk_ids
        assert len(index.scores("partners")) == len(index.chunk_ids)
    final = KeywordIndex.load(folder)
    assert final is not None
    assert final.generation in versions


def test_an_index_folder_from_an_older_release_is_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "keyword-index"
    folder.mkdir()  # as releases before published links left it
    (folder / "boardpapers.json").write_text("{}")
    KeywordIndex.build(_chunks(5, "abuse"), 3).save(folder)
    loaded = KeywordIndex.load(folder)
    assert loaded is not None
    assert (loaded.generation, len(loaded)) == (3, 5)


@pytest.mark.faults
def test_concurrent_saves_of_the_glossary_never_fail_or_tear(tmp_path: Path) -> None:
    path = tmp_path / "glossary.json"
    glossaries = [
        Glossary({"OSAB": "Oxfordshire Safeguarding Adults Board"}),
        Glossary({"PCC": "Police and Crime Commissioner", "CSP": "Community Safety Partnership"}),
    ]
    glossaries[0].save(path)
    seen: list[dict[str, str]] = []

    def writer(glossary: Glossary) -> Callable[[], None]:
        def save() -> None:
            for _ in range(ROUNDS * 4):
                glossary.save(path)

        return save

    def reader() -> None:
        for _ in range(ROUNDS * 8):
            glossary = Glossary.load(path)
            assert glossary is not None
            seen.append(glossary.pairs)

    errors = _run([writer(glossaries[n % 2]) for n in range(THREADS)] + [reader] * THREADS)
    assert errors == []
    assert all(pairs in (g.pairs for g in glossaries) for pairs in seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["glossary.json"]  # no leftovers
