"""The keyword index: BM25 (bm25s) over the live chunks' contextual text, kept in the data
folder beside Chroma and rebuilt whenever what is live changes.

Exact words matter in board papers (names, acronyms, figures, "Section 136"), which dense
embeddings blur; this index is the other half of hybrid retrieval.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from ingest.models import Chunk
from ingest.text.tokens import COMPOUND, Tokenizer, normalised

_STAMP = "boardpapers.json"
# A version no longer published is removed once this old: a reader that resolved it just
# before a swap has long finished reading it by then.
_STALE_AFTER_SECONDS = 300
# Bumped when the tokens change, so an index built by an older release is rebuilt, not read
# with queries it no longer agrees with.
TOKENS_VERSION = 3


log = logging.getLogger(__name__)


class KeywordIndex:
    """BM25 over a fixed list of chunk ids, in the order given at build time."""

    def __init__(self, chunk_ids: list[str], model: object | None, generation: int) -> None:
        self.chunk_ids = chunk_ids
        self.generation = generation
        self._model = model
        self._position = {chunk_id: i for i, chunk_id in enumerate(chunk_ids)}
        self.tokenizer = Tokenizer()

    @classmethod
    def build(cls, chunks: list[Chunk], generation: int) -> KeywordIndex:
        import bm25s

        tokenizer = Tokenizer()
        ids = [chunk.chunk_id for chunk in chunks]
        model = None
        if chunks:
            model = bm25s.BM25(k1=1.2, b=0.75)
            model.index([tokenizer(c.context_text()) for c in chunks], show_progress=False)
        return cls(ids, model, generation)

    def save(self, folder: Path) -> None:
        """Publish the index at `folder`: written whole into a folder of its own, then `folder`
        (a symbolic link) swapped to it in one atomic rename. Concurrent writers never share a
        temporary name, and a reader resolves the link once, so it reads one whole version."""
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        if self._model is not None:
            self._model.save(str(staging), show_progress=False)  # type: ignore[attr-defined]
        stamp = {
            "generation": self.generation,
            "tokens": TOKENS_VERSION,
            "chunk_ids": self.chunk_ids,
        }
        (staging / _STAMP).write_text(json.dumps(stamp), encoding="utf-8")
        _publish(staging, folder)
        _remove_stale(folder)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex | None:
        """The published index, or None when there is none, it was built with other tokens, or
        it cannot be read whole (the caller then keeps or rebuilds its own)."""
        import bm25s

        if not folder.exists():  # a new data folder, or removed meanwhile: nothing to read
            return None
        try:
            version = folder.resolve(strict=True)
            stamp = json.loads((version / _STAMP).read_text(encoding="utf-8"))
            if stamp.get("tokens") != TOKENS_VERSION:
                return None  # built with other tokens: the caller rebuilds it
            model = bm25s.BM25.load(str(version)) if stamp["chunk_ids"] else None
        except Exception:  # removed mid-read, cut short, unreadable: never a half index
            log.warning("could not read the keyword index at %s", folder, exc_info=True)
            return None
        ids = list(stamp["chunk_ids"])
        if model is not None and model.scores.get("num_docs") != len(ids):
            return None  # ids that do not match the model would score the wrong passages
        return cls(ids, model, int(stamp["generation"]))

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def scores(self, query: str, allowed: set[str] | None = None) -> dict[str, float]:
        """BM25 score of every matching chunk (only `allowed` ones when given)."""
        if self._model is None:
            return {}
        tokens = [t for t in self.query_tokens(query) if t in self._vocab]
        if not tokens:
            return {}
        weights = None
        if allowed is not None:
            weights = np.zeros(len(self.chunk_ids), dtype=np.float32)
            for chunk_id in allowed:
                position = self._position.get(chunk_id)
                if position is not None:
                    weights[position] = 1.0
        values = self._model.get_scores(tokens, weight_mask=weights)  # type: ignore[attr-defined]
        hits = np.nonzero(values > 0)[0]
        return {self.chunk_ids[i]: float(values[i]) for i in hits}

    def query_tokens(self, query: str) -> list[str]:
        """The query's tokens, each compound the papers write ("self-harm") searched as the
        one word it makes ("selfharm", which a hyphenated spelling in a passage also gives).
        Its parts alone would match every passage about harm, or social care ("anti-social"),
        ahead of the ones that name it. A compound no passage writes counts as its parts."""

        def as_one_word(match: re.Match[str]) -> str:
            joined = match.group(0).replace("-", "")
            stems = self.tokenizer(joined)
            return joined if stems and stems[0] in self._vocab else match.group(0)

        return self.tokenizer(COMPOUND.sub(as_one_word, normalised(query)))

    def holding(self, stem: str) -> np.ndarray:
        """Per chunk, in `chunk_ids` order: whether the (stemmed) word is in what the index
        read of it (title, section path and text)."""
        if self._model is None or stem not in self._vocab:
            return np.zeros(len(self.chunk_ids), dtype=bool)
        return np.asarray(self._model.get_scores([stem]) > 0)  # type: ignore[attr-defined]

    def position(self, chunk_id: str) -> int | None:
        return self._position.get(chunk_id)

    @property
    def _vocab(self) -> dict[str, int]:
        return self._model.vocab_dict  # type: ignore[union-attr]


def _publish(version: Path, folder: Path) -> None:
    """Point `folder` at `version` with one atomic rename of a new link over the old one."""
    link = folder.with_name(f".{folder.name}.link-{uuid.uuid4().hex}")
    os.symlink(version.name, link)
    if folder.is_dir() and not folder.is_symlink():
        # A folder written by a release before links: moved aside once, then removed as stale.
        with contextlib.suppress(FileNotFoundError):  # another writer moved it first
            folder.rename(folder.with_name(f".{folder.name}.{uuid.uuid4().hex}"))
    os.replace(link, folder)


def _remove_stale(folder: Path) -> None:
    """Remove versions of the index that are no longer published and old enough that no
    reader or writer can still be using them."""
    current = folder.resolve()
    cutoff = time.time() - _STALE_AFTER_SECONDS
    for version in folder.parent.glob(f".{folder.name}.*"):
        try:
            if (
                version.is_symlink()
                or version.resolve() == current
                or version.stat().st_mtime > cutoff
            ):
                continue
        except FileNotFoundError:
            continue
        shutil.rmtree(version, ignore_errors=True)
