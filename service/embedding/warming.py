"""The embedding model of a starting service: ready in about a second, at full speed seconds later.

Importing torch and sentence-transformers and loading the model takes 5-10 s on a 2-core machine,
most of a cold start. `WarmingEmbeddings` answers from `LightEmbeddings` (the same model in numpy,
loaded in well under a second) while a background thread loads `BundledEmbeddings`, then from
that. The two give the same vectors to float32 rounding, so no ranking or answer changes when it
moves over; only how long a vector takes (numpy is about a third slower).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from langchain_core.embeddings import Embeddings

from ingest.store.embeddings import BundledEmbeddings
from service.embedding.light import LightEmbeddings

log = logging.getLogger(__name__)


class WarmingEmbeddings(Embeddings):
    def __init__(self, batch_size: int, torch_threads: int) -> None:
        self.full = BundledEmbeddings(batch_size=batch_size)
        self._light: LightEmbeddings | None = LightEmbeddings(batch_size=batch_size)
        self.loaded = threading.Event()
        self._torch_threads = torch_threads

    def load_in_background(self) -> None:
        """Load torch and the model in a thread of their own. Called once the service is
        ready: loading holds the interpreter's lock much of the time, and would slow the
        keyword index and the first search, which the service waits for."""
        threading.Thread(target=self._load, name="model-load", daemon=True).start()

    def _load(self) -> None:
        try:
            import torch

            torch.set_num_threads(self._torch_threads)
            self.full.embed_query("warm up")
        except Exception:  # the numpy model keeps answering; say why torch did not take over
            log.exception("Loading the embedding model in torch failed; reading on in numpy")
            return
        self._light = None  # its ~90 MB of weights go
        self.loaded.set()
        log.info("Embedding model loaded in torch")

    @property
    def model_path(self) -> Path:
        """The model's folder: chunking counts word-pieces with its tokenizer."""
        return self.full.model_path

    def count_tokens(self, text: str) -> int:
        return self.full.count_tokens(text)

    def _now(self) -> BundledEmbeddings | LightEmbeddings:
        light = self._light
        return self.full if light is None else light

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._now().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._now().embed_query(text)

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return self._now().embed_queries(texts)
