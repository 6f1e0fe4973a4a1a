"""The second-stage reranker, with real models loaded from local folders: the bundled MiniLM
as a second bi-encoder, and a cross-encoder saved from it (its scoring head is untrained,
which is enough to show that its scores, and not the fused ones, decide the order)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import MakeServices

from ingest.embeddings import bundled_model_path
from service.container import Services
from service.reranking import (
    BiEncoderReranker,
    CrossEncoderReranker,
    Reranker,
    RerankerModelMissing,
    make_reranker,
)
from service.retrieval import Retriever
from service.settings import Settings

QUESTION = "What did the partnership do about street drinking and begging in the city centre?"
DEPTH = 10


@pytest.fixture(scope="module")
def cross_encoder_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sentence_transformers import CrossEncoder

    torch.manual_seed(7)
    model = CrossEncoder(str(bundled_model_path()), num_labels=1, device="cpu")
    folder = tmp_path_factory.mktemp("cross-encoder")
    model.save(str(folder))
    return folder


def _reranked_first(services: Services, reranker: Reranker) -> tuple[str, str, str]:
    """The first chunk without a reranker, the one the reranker scores best among the fused
    top `DEPTH`, and the first chunk with the reranker deciding the order alone."""
    settings = services.settings.model_copy(
        update={"passage_max_chunks": 1, "rerank_depth": DEPTH, "rerank_weight": 1.0}
    )
    fused = Retriever(services.index, settings).search(QUESTION, k=DEPTH)
    scores = reranker.scores(QUESTION, [hit.chunk.context_text() for hit in fused])
    best = max(range(len(fused)), key=lambda i: scores[i])
    reranked = Retriever(services.index, settings, reranker).search(QUESTION, k=DEPTH)
    return fused[0].chunk.chunk_id, fused[best].chunk.chunk_id, reranked[0].chunk.chunk_id


def test_a_bi_encoder_reranker_puts_its_best_scored_chunk_first(
    corpus_services: Services,
) -> None:
    reranker = BiEncoderReranker(bundled_model_path())
    fused_first, reranker_best, reranked_first = _reranked_first(corpus_services, reranker)
    assert reranker_best != fused_first  # else this question would show nothing
    assert reranked_first == reranker_best


def test_a_cross_encoder_reranker_puts_its_best_scored_chunk_first(
    corpus_services: Services, cross_encoder_folder: Path
) -> None:
    reranker = CrossEncoderReranker(cross_encoder_folder)
    fused_first, reranker_best, reranked_first = _reranked_first(corpus_services, reranker)
    assert reranker_best != fused_first
    assert reranked_first == reranker_best


def test_reranking_at_half_weight_keeps_the_fused_scores_in_order(
    corpus_services: Services,
) -> None:
    settings = corpus_services.settings.model_copy(update={"rerank_depth": DEPTH})
    reranker = BiEncoderReranker(bundled_model_path())
    hits = Retriever(corpus_services.index, settings, reranker).search(QUESTION, k=8)
    fused = Retriever(corpus_services.index, settings).search(QUESTION, k=8)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert hits[0].score == fused[0].score


def test_no_reranker_by_default(settings: Settings) -> None:
    assert make_reranker(settings) is None


def test_a_missing_reranker_model_stops_startup_with_what_to_set(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    settings = settings.model_copy(
        update={"reranker": "cross-encoder", "reranker_model": tmp_path / "no-such-model"}
    )
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
