"""The embedding model of a starting service: ready at once, at full speed seconds later.

`WarmingEmbeddings` answers from `LightEmbeddings` (the model in numpy, loaded in ~0.1 s) while
a background thread builds `OnnxEmbeddings` (the model on ONNX Runtime, ~2 s), then from that:
about a quarter of numpy's time a question, and a third of torch's. All three give the same
vectors to float32 rounding, so no ranking or answer changes when it moves over (with
`serve_embedding_int8` the ONNX model's are close to them, not equal). Torch
(`BundledEmbeddings`, 5-10 s of imports) is loaded only if the service itself reads a paper:
its tokenizer counts word-pieces as ingest does.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from langchain_core.embeddings import Embeddings

from ingest.store.embeddings import BundledEmbeddings
from service.embedding.light import LightEmbeddings
from service.embedding.onnx_bert import OnnxEmbeddings

log = logging.getLogger(__name__)


class WarmingEmbeddings(Embeddings):
    def __init__(self, batch_size: int, threads: int, int8: bool = False) -> None:
        self.full = BundledEmbeddings(batch_size=batch_size)
        self._light: LightEmbeddings | None = LightEmbeddings(batch_size=batch_size)
        self._fast: OnnxEmbeddings | None = None
        self.loaded = threading.Event()
        self._batch_size, self._threads, self._int8 = batch_size, threads, int8

    def load_in_background(self) -> None:
        """Build the ONNX Runtime model in a thread of its own. Called once the service is
        ready: building holds the interpreter's lock part of the time, and would slow the
        keyword index and the first search, which the service waits for."""
        threading.Thread(target=self._load, name="model-load", daemon=True).start()

    def _load(self) -> None:
        try:
            fast = OnnxEmbeddings(
                batch_size=self._batch_size, threads=self._threads, int8=self._int8
            )
            fast.embed_query("warm up")
        except Exception:  # the numpy model keeps answering; say why ONNX did not take over
            log.exception("Building the model on ONNX Runtime failed; reading on in numpy")
            return
        self._fast = fast
        self._light = None  # numpy's ~90 MB of weights go; `_now` relies on this order
        self.loaded.set()
        log.info("Embedding model running on ONNX Runtime")

    @property
    def model_path(self) -> Path:
        """The model's folder: chunking counts word-pieces with its tokenizer."""
        return self.full.model_path

    def count_tokens(self, text: str) -> int:
        return self.full.count_tokens(text)

    def _now(self) -> OnnxEmbeddings | LightEmbeddings:
        # Read in the reverse of the loader's order (it sets the fast model, then drops the
        # numpy one): a numpy model found gone means the fast one is in place already.
        light = self._light
        fast = self._fast
        if fast is not None:
            return fast
        assert light is not None
        return light

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._now().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._now().embed_query(text)

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return self._now().embed_queries(texts)
