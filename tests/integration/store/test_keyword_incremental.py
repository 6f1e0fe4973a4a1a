"""The keyword index and the glossary rebuilt from the last ones, tokenizing only the papers new
since, score and expand exactly as ones built afresh from every live chunk; a replica whose
saved index is stale (another process changed what is live) or was built with other tokens
rebuilds it from the manifest."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import KEY_POINTS, PROTOCOL, MakeServices
from papers import make_pdf

from ingest.models import Chunk
from ingest.parsing import ReadRequest, WordPieceCounter, read_paper
from ingest.pipeline import ingest_paths
from ingest.store import keyword_index
from ingest.store.embeddings import bundled_model_path
from ingest.store.keyword_index import TOKENS_VERSION, KeywordIndex
from ingest.text.acronyms import Glossary, count_definitions
from ingest.text.tokens import Tokenizer
from service.settings import Settings

QUERIES = [
    "safeguarding adults board priorities",
    "domestic abuse and self-harm",
    "police and crime commissioner",
    "Healthwatch",
    "libraries opening hours Saturday",
    "OSAB performance scrutiny",
    "well-being of older people",
]


def _markdown(path: Path, title: str, paragraphs: list[str]) -> Path:
    path.write_text(f"# {title}\n\n" + "\n\n".join(paragraphs), encoding="utf-8")
    return path


def _chunks(path: Path, doc_id: str) -> list[Chunk]:
    counter = WordPieceCounter(bundled_model_path())
    result = read_paper(ReadRequest(path, doc_id, False, 250, "exempt"), counter)
    assert result.paper is not None, result
    return result.paper.chunks


def _assert_same_scores(rebuilt: KeywordIndex, fresh: KeywordIndex) -> None:
    assert rebuilt.chunk_ids == fresh.chunk_ids
    assert set(rebuilt._vocab) == set(fresh._vocab)
    for query in QUERIES:
        assert rebuilt.query_tokens(query) == fresh.query_tokens(query)
        assert rebuilt.scores(query) == pytest.approx(fresh.scores(query), rel=1e-6), query
        for stem in fresh.query_tokens(query):
            assert rebuilt.holding(stem).tolist() == fresh.holding(stem).tolist()


def test_an_index_rebuilt_from_the_last_scores_as_one_built_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = _markdown(tmp_path / "library.md", "Library Services", [
        "The Library Services Review (LSR) found that branch libraries open on Saturday.",
        "Members asked for well-being figures and visitor numbers for each branch.",
    ])  # fmt: skip
    healthwatch = _markdown(tmp_path / "healthwatch.md", "Healthwatch update", [
        "Healthwatch raised self-harm among young people with the Police and Crime "
        "Commissioner (PCC), who agreed to report on domestic abuse.",
    ])  # fmt: skip
    papers = {
        "key-points": _chunks(KEY_POINTS, "key-points"),
        "library": _chunks(library, "library"),
        "protocol": _chunks(PROTOCOL, "protocol"),
    }
    first = KeywordIndex.build([c for doc in sorted(papers) for c in papers[doc]], 1)
    first.save(tmp_path / "keyword-index")
    previous = KeywordIndex.load(tmp_path / "keyword-index")
    assert previous is not None
    assert set(previous.documents) == set(first.documents)

    # One paper gone (its words with it), one new, one retitled (its context text changed).
    del papers["library"]
    papers["healthwatch"] = _chunks(healthwatch, "healthwatch")
    retitled = replace(papers["protocol"][0].meta, title="Partnership protocol, revised")
    papers["protocol"] = [replace(c, meta=retitled) for c in papers["protocol"]]
    live = [c for doc in sorted(papers) for c in papers[doc]]
    tokenized: list[str] = []
    tokenize = Tokenizer.__call__

    def counted(self: Tokenizer, text: str) -> list[str]:
        tokenized.append(text)
        return tokenize(self, text)

    monkeypatch.setattr(Tokenizer, "__call__", counted)
    rebuilt = KeywordIndex.build(live, 2, previous=previous)
    assert len(tokenized) == len(papers["healthwatch"]) + len(papers["protocol"])
    monkeypatch.undo()

    fresh = KeywordIndex.build(live, 2)
    _assert_same_scores(rebuilt, fresh)
    assert first.scores("LSR")
    assert rebuilt.scores("LSR") == {}
    rebuilt.save(tmp_path / "keyword-index")
    reloaded = KeywordIndex.load(tmp_path / "keyword-index")
    assert reloaded is not None
    _assert_same_scores(reloaded, fresh)


def test_a_glossary_merged_paper_by_paper_is_the_one_learned_at_once() -> None:
    papers = [
        ["The Community Safety Partnership (CSP) met.", "A Care Quality Commission (CQC) visit."],
        ["The Community Safety Plan (CSP) was agreed.", "Care Quality Commission (CQC) again."],
        ["Community Safety Plan (CSP) review.", "The Community Safety Partnership (CSP) chair."],
    ]
    merged = Glossary.merged(count_definitions(texts) for texts in papers)
    learned = Glossary.learn(text for texts in papers for text in texts)
    assert merged.pairs == learned.pairs
    # two forms defined twice each: the first seen wins, both ways
    assert merged.pairs["CSP"] == "Community Safety Partnership"
    assert Glossary.merged(count_definitions(t) for t in papers[1:]).pairs["CSP"] == (
        "Community Safety Plan"
    )


def test_a_replica_rebuilds_what_another_process_changed_from_the_manifest(
    tmp_path: Path, settings: Settings, make_services: MakeServices
) -> None:
    papers = tmp_path / "papers"
    papers.mkdir()
    make_pdf(papers / "housing.pdf", "housing")
    _markdown(papers / "board.md", "Safeguarding board", [
        "The Oxfordshire Safeguarding Adults Board (OSAB) set three priorities for the year.",
    ])  # fmt: skip
    replica = make_services(settings)
    assert ingest_paths([papers], replica.index).ok
    assert replica.index.glossary().pairs == {"OSAB": "Oxfordshire Safeguarding Adults Board"}
    replica.index.keyword_index()

    # Another process adds a paper (its ingest saves the index it rebuilt), then removes one
    # (no index saved: the replica finds the saved one stale and rebuilds from it).
    writer = make_services(settings)
    more = tmp_path / "more"
    more.mkdir()
    _markdown(more / "police.md", "Police and crime panel", [
        "The Police and Crime Commissioner (PCC) reported on domestic abuse and self-harm.",
    ])  # fmt: skip
    assert ingest_paths([more], writer.index).ok
    assert writer.index.remove_document("board")
    generation = writer.index.manifest.generation()

    rebuilt = replica.index.keyword_index()
    live = replica.index.manifest.live_chunks()
    assert rebuilt.generation == generation
    assert rebuilt.chunk_ids == [c.chunk_id for c in live]
    _assert_same_scores(rebuilt, KeywordIndex.build(live, generation))
    assert replica.index.glossary().pairs == Glossary.learn(c.text for c in live).pairs
    assert replica.index.glossary().pairs == {"PCC": "Police and Crime Commissioner"}

    # A saved index of this generation but other tokens is not read: it is built again.
    saved = settings.keyword_index_path.resolve()
    stamp = json.loads((saved / "boardpapers.json").read_text(encoding="utf-8"))
    assert stamp["generation"] == generation
    stamp["tokens"] = TOKENS_VERSION - 1
    (saved / "boardpapers.json").write_text(json.dumps(stamp), encoding="utf-8")
    assert KeywordIndex.load(settings.keyword_index_path) is None
    third = make_services(settings)
    _assert_same_scores(third.index.keyword_index(), KeywordIndex.build(live, generation))
    again = KeywordIndex.load(settings.keyword_index_path)
    assert again is not None
    assert again.generation == generation


def test_an_index_saved_without_tokens_still_serves_and_is_rebuilt_whole(
    tmp_path: Path,
) -> None:
    chunks = _chunks(KEY_POINTS, "key-points")
    folder = tmp_path / "keyword-index"
    KeywordIndex.build(chunks, 1).save(folder)
    saved = folder.resolve()  # made as an older release saved it: no tokens kept
    for name in (keyword_index._LENGTHS, keyword_index._TOKEN_IDS):
        (saved / name).unlink()
    stamp = json.loads((saved / "boardpapers.json").read_text(encoding="utf-8"))
    del stamp["documents"]
    (saved / "boardpapers.json").write_text(json.dumps(stamp), encoding="utf-8")
    older = KeywordIndex.load(folder)
    assert older is not None
    assert older.documents == {}
    _assert_same_scores(older, KeywordIndex.build(chunks, 1))
    rebuilt = KeywordIndex.build(chunks, 2, previous=older)
    _assert_same_scores(rebuilt, KeywordIndex.build(chunks, 2))
    assert set(rebuilt.documents) == {("key-points", chunks[0].version, chunks[0].meta.title)}
