"""How much of the exact nearest neighbours Chroma's HNSW graph finds, on an ingested index.

The dense retriever asks Chroma for each question's nearest chunks; its graph is approximate.
This compares, per question, the chunks Chroma returns with the exact nearest by cosine over
every stored vector (read back from the same collection), at k = 10 and k = 60 (the retriever's
candidates): the share of Chroma's k that are as near as the exact k-th. And it times
Chroma's query. Questions: the archive bench's 20 generic ones and the
development sets' (`--questions`). Prints figures, never passes or fails.

    python -m bench.dense_recall --data-dir DIR [--questions FILE ...]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from bench.archive import QUESTIONS
from bench.latency import log, print_header, run_header, settings_for

KS = (10, 60)
SAME_SCORE = 1e-5  # float32 rounding between Chroma's distances and this product


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="an ingested index")
    parser.add_argument(
        "--questions", type=Path, action="append", default=[],
        help="a question file (JSON lines with a `question`); repeatable",
    )  # fmt: skip
    args = parser.parse_args(argv)
    from ingest.store.index import make_chroma_client
    from service.container import build_services
    from service.embedding.onnx_bert import OnnxEmbeddings

    header = run_header()
    questions = list(QUESTIONS)
    for path in args.questions:
        lines = path.read_text(encoding="utf-8").splitlines()
        questions += [json.loads(line)["question"] for line in lines if line.strip()]
    services = build_services(settings_for(args.data_dir), embeddings=OnnxEmbeddings())
    index = services.index
    log(f"reading every stored vector of {args.data_dir}…")
    collection = make_chroma_client(index.settings).get_collection(index.settings.collection)
    stored = collection.get(include=["embeddings"])
    configuration = (collection.configuration_json or {}).get("hnsw") or {}
    vectors = np.asarray(stored["embeddings"], dtype=np.float32)
    asked = np.asarray(index.embeddings.embed_documents(questions), dtype=np.float32)
    found: dict[int, list[float]] = {k: [] for k in KS}
    seconds: list[float] = []
    for question in asked:
        exact = np.sort(vectors @ question)[::-1]
        start = time.perf_counter()
        ranked = np.asarray([score for _, score in index.dense_search(question.tolist(), max(KS))])
        seconds.append(time.perf_counter() - start)
        for k in KS:
            # by score, not by id: identical chunks (a placeholder repeated in many papers)
            # tie, and any of them is as near as another
            found[k].append(float((ranked[:k] >= exact[k - 1] - SAME_SCORE).sum()) / k)
    print_header(header)
    graph = ", ".join(f"{name} {configuration.get(name)}" for name in
                      ("max_neighbors", "ef_construction", "ef_search"))  # fmt: skip
    print(f"Index {args.data_dir}: {len(vectors)} vectors; HNSW {graph}; "
          f"{len(questions)} questions.\n")  # fmt: skip
    print("| k | share of the exact k nearest found: mean | lowest | questions with all |")
    print("|---|---|---|---|")
    for k in KS:
        shares = np.asarray(found[k])
        print(f"| {k} | {shares.mean():.3f} | {shares.min():.3f} | {(shares == 1).mean():.2f} |")
    print(f"\nChroma query (k={max(KS)}, through PaperIndex.dense_search): "
          f"median {np.median(seconds) * 1000:.2f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
