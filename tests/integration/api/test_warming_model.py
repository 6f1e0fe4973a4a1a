"""A starting service reads with the model in numpy, then on ONNX Runtime once that is built:
the same vectors as the index's (torch's) either way, so no answer depends on when it was
asked."""

from __future__ import annotations

import numpy as np

from ingest.store.embeddings import BundledEmbeddings
from service.embedding.warming import WarmingEmbeddings

TEXTS = [
    "Who chairs the Health and Wellbeing Board?",
    "RESOLVED: that the Board approves the Joint Health and Wellbeing Strategy 2024/25.",
    "  a text with spaces around it  ",
    "x",
    "The budget monitoring report for quarter two. " * 60,  # past the model's 256 word-pieces
]


def test_a_starting_service_reads_in_numpy_then_on_onnx_runtime_with_the_same_vectors(
    embeddings: BundledEmbeddings,
) -> None:
    expected = np.asarray(embeddings.embed_documents(TEXTS))
    warming = WarmingEmbeddings(batch_size=4, threads=1)
    first = np.asarray(warming.embed_documents(TEXTS))  # in numpy: nothing else is loading yet
    assert np.abs(first - expected).max() < 1e-5
    warming.load_in_background()
    assert warming.loaded.wait(timeout=120), "ONNX Runtime never took over"
    fast = np.asarray(warming.embed_documents(TEXTS))
    assert np.abs(fast - expected).max() < 1e-5
    assert fast.tolist() != first.tolist(), "the ONNX model answers now, not numpy"
    queries = np.asarray(warming.embed_queries(TEXTS[:2]))
    assert np.abs(queries - np.asarray(embeddings.embed_queries(TEXTS[:2]))).max() < 1e-5
    assert warming.count_tokens(TEXTS[0]) == embeddings.count_tokens(TEXTS[0])


def test_served_in_int8_the_vectors_stay_close_and_ranks_stay_sensible(
    embeddings: BundledEmbeddings,
) -> None:
    """`serve_embedding_int8`: near the stored model's vectors, not equal to them (else the
    quantized model was never used), and the question still nearest its own answer."""
    expected = np.asarray(embeddings.embed_documents(TEXTS))
    warming = WarmingEmbeddings(batch_size=4, threads=1, int8=True)
    warming.load_in_background()
    assert warming.loaded.wait(timeout=120), "the int8 model never took over"
    quantized = np.asarray(warming.embed_documents(TEXTS))
    closeness = (quantized * expected).sum(axis=1)
    assert closeness.min() > 0.98
    assert np.abs(quantized - expected).max() > 1e-4
    question = np.asarray(warming.embed_query(TEXTS[0]))
    assert int(np.argmax(expected[1:] @ question)) == 0  # the Board's own resolution
