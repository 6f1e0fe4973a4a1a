"""A starting service reads with the model in numpy, then in torch once that has loaded: the
same vectors either way, so no answer depends on when it was asked."""

from __future__ import annotations

import numpy as np
import torch

from ingest.store.embeddings import BundledEmbeddings
from service.embedding.warming import WarmingEmbeddings

TEXTS = [
    "Who chairs the Health and Wellbeing Board?",
    "RESOLVED: that the Board approves the Joint Health and Wellbeing Strategy 2024/25.",
    "x",
]


def test_a_starting_service_reads_in_numpy_then_in_torch_with_the_same_vectors(
    embeddings: BundledEmbeddings,
) -> None:
    expected = np.asarray(embeddings.embed_documents(TEXTS))
    # the process's torch threads as they are: the suite goes on with them
    warming = WarmingEmbeddings(batch_size=4, torch_threads=torch.get_num_threads())
    first = np.asarray(warming.embed_documents(TEXTS))  # in numpy: torch is not loading yet
    assert np.abs(first - expected).max() < 1e-5
    assert first.tolist() != expected.tolist(), "numpy's vectors differ in the last bits"
    warming.load_in_background()
    assert warming.loaded.wait(timeout=120), "torch never took over"
    # torch's own vectors, exactly: numpy's differ in the last bits
    assert warming.embed_documents(TEXTS) == embeddings.embed_documents(TEXTS)
    assert warming.embed_queries(TEXTS[:2]) == embeddings.embed_queries(TEXTS[:2])
    assert warming.count_tokens(TEXTS[0]) == embeddings.count_tokens(TEXTS[0])
