"""The second-stage reranker, with real models loaded from local folders: the bundled MiniLM
as a second bi-encoder, and a cross-encoder saved from it (its scoring head is untrained,
which is enough to show that its scores, and not the fused ones, decide the order)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import MakeServices

from ingest.store.embeddings import bundled_model_path
from service.container import Services
from service.retrieval.reranking import (
    BiEncoderReranker,
    CrossEncoderReranker,
    Reranker,
    RerankerModelMissing,
    make_reranker,
)
from service.retrieval.retriever import Retriever
from service.settings import Settings

QUESTION = "What did the partnership do about street drinking and begging in the city centre?"
DEPTH = 10


@pytest.fixture(scope="module")
def cross_encoder_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sentence_transformers import CrossEncoder

    torch.manual_seed(1)
    model = CrossEncoder(str(bundled_model_path()), num_labels=1, device="cpu")
    folder = tmp_path_factory.mktemp("cross-encoder")
    model.save(str(folder))
    return folder


def _reranked_first(services: Services, reranker: Reranker) -> tuple[str, str, list[str]]:
    """The first chunk without a reranker; the one the reranker scores best among the fused
    top `DEPTH` chunks (the places, and any repeats they stand for); and the first place with
    the reranker deciding the order alone, with its repeats."""
    settings = services.settings.model_copy(
        update={"passage_max_chunks": 1, "rerank_depth": DEPTH, "rerank_weight": 1.0}
    )
    fused = Retriever(services.index, settings).search(QUESTION, k=DEPTH)
    chunks = [chunk for hit in fused for chunk in (hit.chunk, *hit.repeats)]
    scores = reranker.scores(QUESTION, [chunk.context_text() for chunk in chunks])
    best = chunks[max(range(len(chunks)), key=lambda i: scores[i])]
    reranked = Retriever(services.index, settings, reranker).search(QUESTION, k=DEPTH)
    first = [chunk.chunk_id for chunk in (reranked[0].chunk, *reranked[0].repeats)]
    return fused[0].chunk.chunk_id, best.chunk_id, first


def test_a_bi_encoder_reranker_puts_its_best_scored_chunk_first(
    corpus_services: Services,
) -> None:
    reranker = BiEncoderReranker(bundled_model_path())
    fused_first, reranker_best, reranked_first = _reranked_first(corpus_services, reranker)
    assert reranker_best != fused_first  # else this question would show nothing
    assert reranker_best in reranked_first


def test_a_cross_encoder_reranker_puts_its_best_scored_chunk_first(
    corpus_services: Services, cross_encoder_folder: Path
) -> None:
    reranker = CrossEncoderReranker(cross_encoder_folder)
    fused_first, reranker_best, reranked_first = _reranked_first(corpus_services, reranker)
    assert reranker_best != fused_first
    assert reranker_best in reranked_first


def test_reranking_at_half_weight_reorders_and_keeps_scores_in_order(
    corpus_services: Services,
) -> None:
    settings = corpus_services.settings.model_copy(update={"rerank_depth": DEPTH})
    reranker = BiEncoderReranker(bundled_model_path())
    hits = Retriever(corpus_services.index, settings, reranker).search(QUESTION, k=8)
    fused = Retriever(corpus_services.index, settings).search(QUESTION, k=8)
    assert [hit.chunk.chunk_id for hit in hits] != [hit.chunk.chunk_id for hit in fused]
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_no_reranker_by_default(settings: Settings) -> None:
    assert make_reranker(settings) is None


@pytest.mark.parametrize(
    ("kind", "folder_exists"), [("cross-encoder", False), ("bi-encoder", True)]
)
def test_a_reranker_model_folder_missing_or_empty_stops_startup_with_what_to_set(
    settings: Settings, make_services: MakeServices, tmp_path: Path, kind: str, folder_exists: bool
) -> None:
    folder = tmp_path / "no-model-here"
    if folder_exists:
        folder.mkdir()
    settings = settings.model_copy(update={"reranker": kind, "reranker_model": folder})
    with pytest.raises(RerankerModelMissing, match="BOARDPAPERS_RERANKER_MODEL"):
        make_services(settings)


def test_a_bi_encoder_scores_the_same_from_its_kept_vectors() -> None:
    passages = [
        "The partnership funds street drinking outreach.",
        "Begging in the city centre fell by a third.",
        "The library opens on Saturdays.",
    ]
    question = "What was done about begging?"
    fresh = BiEncoderReranker(bundled_model_path()).scores(question, passages)
    kept = BiEncoderReranker(bundled_model_path(), cached_passages=2)
    kept.scores("an earlier question", passages[:2])
    assert kept.scores(question, passages) == pytest.approx(fresh, abs=1e-5)
    assert kept.scores(question, passages[::-1]) == pytest.approx(fresh[::-1], abs=1e-5)
