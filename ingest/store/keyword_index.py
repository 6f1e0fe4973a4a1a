"""The keyword index: BM25 (bm25s) over the live chunks' contextual text, kept in the data
folder beside Chroma and rebuilt whenever what is live changes, tokenizing only the papers
that are new since the index it replaces.

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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.models import Chunk
from ingest.text.tokens import COMPOUND, Tokenizer, normalised

_STAMP = "boardpapers.json"
# Each chunk's token count, and all chunks' token ids (into the BM25 model's vocabulary).
_LENGTHS = "token-lengths.npy"
_TOKEN_IDS = "token-ids.npy"
# A version no longer published is removed once this old: a reader that resolved it just
# before a swap has long finished reading it by then.
_STALE_AFTER_SECONDS = 300
# Bumped when the tokens change, so an index built by an older release is rebuilt, not read
# with queries it no longer agrees with.
TOKENS_VERSION = 4


log = logging.getLogger(__name__)


DocumentKey = tuple[str, str, str]
"""A document's id, version and title: what its chunks' indexed text is made of, beyond the
chunks of that version themselves (`Chunk.context_text`)."""


@dataclass
class DocumentTokens:
    """The tokens of one document's chunks, as ids into its index's vocabulary."""

    chunk_ids: list[str]
    lengths: np.ndarray  # tokens per chunk
    ids: np.ndarray  # every chunk's token ids, one chunk after another


class KeywordIndex:
    """BM25 over a fixed list of chunk ids, in the order given at build time.

    It keeps each document's tokens, saved with it, so a rebuild for what is live now (`build`
    with `previous`) reads only the documents new since: the others' tokens are taken as
    they are, and BM25's weights (which depend on every chunk) are computed afresh from them.
    """

    def __init__(
        self,
        chunk_ids: list[str],
        model: object | None,
        generation: int,
        documents: dict[DocumentKey, DocumentTokens] | None = None,
    ) -> None:
        self.chunk_ids = chunk_ids
        self.generation = generation
        self._model = model
        self._position = {chunk_id: i for i, chunk_id in enumerate(chunk_ids)}
        self.tokenizer = Tokenizer()
        self.documents = documents or {}  # empty for an index saved by an older release

    @classmethod
    def build(
        cls, chunks: list[Chunk], generation: int, previous: KeywordIndex | None = None
    ) -> KeywordIndex:
        """The index of `chunks` (a document's together, in reading order), tokenizing only
        the documents that `previous` does not hold as they are now."""
        groups: dict[DocumentKey, list[Chunk]] = {}
        for chunk in chunks:
            groups.setdefault(document_key(chunk), []).append(chunk)
        known = previous.documents if previous is not None else {}
        fresh = {key: group for key, group in groups.items() if key not in known}
        return cls.assemble(list(groups), fresh, generation, previous)

    @classmethod
    def assemble(
        cls,
        order: list[DocumentKey],
        fresh: dict[DocumentKey, list[Chunk]],
        generation: int,
        previous: KeywordIndex | None,
    ) -> KeywordIndex:
        """The index of the documents in `order`: each one's chunks from `fresh` when given
        there (tokenized now), else as `previous` holds them."""
        import bm25s

        tokenizer = Tokenizer()
        known = previous.documents if previous is not None else {}
        kept = [known[key] for key in order if key not in fresh and key in known]
        # Kept documents' token ids, renumbered into a vocabulary of the words still in use
        # (a word only a removed paper had must not be in it: queries test the vocabulary).
        vocabulary: dict[str, int] = {}
        renumber = np.zeros(0, dtype=np.int32)
        if kept and previous is not None:
            used = np.unique(np.concatenate([tokens.ids for tokens in kept]))
            words = previous._words()
            vocabulary = {words[i]: n for n, i in enumerate(used.tolist())}
            renumber = np.zeros(len(words), dtype=np.int32)
            renumber[used] = np.arange(len(used), dtype=np.int32)
        documents: dict[DocumentKey, DocumentTokens] = {}
        for key in order:
            if key not in fresh:
                old = known[key]
                documents[key] = DocumentTokens(old.chunk_ids, old.lengths, renumber[old.ids])
                continue
            token_lists = [tokenizer(chunk.context_text()) for chunk in fresh[key]]
            ids = [vocabulary.setdefault(word, len(vocabulary)) for t in token_lists for word in t]
            documents[key] = DocumentTokens(
                [chunk.chunk_id for chunk in fresh[key]],
                np.array([len(tokens) for tokens in token_lists], dtype=np.int32),
                np.array(ids, dtype=np.int32),
            )
        chunk_ids = [chunk_id for tokens in documents.values() for chunk_id in tokens.chunk_ids]
        model = None
        if chunk_ids:
            model = bm25s.BM25(k1=1.2, b=0.75)
            model.index((_per_chunk(documents.values()), vocabulary), show_progress=False)
        return cls(chunk_ids, model, generation, documents)

    def _words(self) -> list[str]:
        """The vocabulary in id order."""
        words = [""] * len(self._vocab)
        for word, position in self._vocab.items():
            words[position] = word
        return words

    def save(self, folder: Path) -> None:
        """Publish the index at `folder`: written whole into a folder of its own, then `folder`
        (a symbolic link) swapped to it in one atomic rename. Concurrent writers never share a
        temporary name, and a reader resolves the link once, so it reads one whole version."""
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        if self._model is not None:
            self._model.save(str(staging), show_progress=False)  # type: ignore[attr-defined]
        tokens = list(self.documents.values())
        stamp = {
            "generation": self.generation,
            "tokens": TOKENS_VERSION,
            "chunk_ids": self.chunk_ids,
            "documents": [[*key, len(t.chunk_ids)] for key, t in self.documents.items()],
        }
        if tokens:
            np.save(staging / _LENGTHS, np.concatenate([t.lengths for t in tokens]))
            np.save(staging / _TOKEN_IDS, np.concatenate([t.ids for t in tokens]))
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
            ids = list(stamp["chunk_ids"])
            documents = _saved_documents(version, stamp, ids)
        except Exception:  # removed mid-read, cut short, unreadable: never a half index
            log.warning("could not read the keyword index at %s", folder, exc_info=True)
            return None
        if model is not None and model.scores.get("num_docs") != len(ids):
            return None  # ids that do not match the model would score the wrong passages
        return cls(ids, model, int(stamp["generation"]), documents)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def scores(self, query: str, allowed: set[str] | None = None) -> dict[str, float]:
        """BM25 score of every matching chunk (only `allowed` ones when given)."""
        values = self._values(query, allowed)
        if values is None:
            return {}
        hits = np.nonzero(values > 0)[0]
        return {self.chunk_ids[i]: float(values[i]) for i in hits}

    def best(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """The `k` best-scoring matching chunks, best first, ties in index order: picked from
        the score array, not by sorting every match (an archive has tens of thousands)."""
        values = self._values(query, allowed)
        if values is None or k < 1:
            return []
        hits = np.nonzero(values > 0)[0]
        if len(hits) > k:
            cut = np.partition(values[hits], len(hits) - k)[len(hits) - k]
            hits = hits[values[hits] >= cut]  # every chunk tied at the cut, for the index order
        order = hits[np.lexsort((hits, -values[hits]))][:k]
        return [(self.chunk_ids[i], float(values[i])) for i in order]

    def _values(self, query: str, allowed: set[str] | None) -> np.ndarray | None:
        """Per chunk, in `chunk_ids` order, the query's BM25 score (0 where not `allowed`);
        None when nothing can match."""
        if self._model is None:
            return None
        tokens = [t for t in self.query_tokens(query) if t in self._vocab]
        if not tokens:
            return None
        weights = None
        if allowed is not None:
            weights = np.zeros(len(self.chunk_ids), dtype=np.float32)
            for chunk_id in allowed:
                position = self._position.get(chunk_id)
                if position is not None:
                    weights[position] = 1.0
        return np.asarray(self._model.get_scores(tokens, weight_mask=weights))  # type: ignore[attr-defined]

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


def document_key(chunk: Chunk) -> DocumentKey:
    return (chunk.doc_id, chunk.version, chunk.meta.title if chunk.meta else "")


def _per_chunk(documents: Iterable[DocumentTokens]) -> list[list[int]]:
    """Each chunk's token ids, as the lists BM25 is built from."""
    lists: list[list[int]] = []
    for tokens in documents:
        ends = np.cumsum(tokens.lengths)
        lists.extend(part.tolist() for part in np.split(tokens.ids, ends[:-1]))
    return lists


def _saved_documents(
    version: Path, stamp: dict[str, Any], chunk_ids: list[str]
) -> dict[DocumentKey, DocumentTokens]:
    """The per-document tokens saved with an index; none for one saved without them (by an
    older release) or whose token files do not match it: its papers are tokenized afresh."""
    try:
        lengths = np.load(version / _LENGTHS)
        token_ids = np.load(version / _TOKEN_IDS)
    except (OSError, ValueError):
        return {}
    if len(lengths) != len(chunk_ids) or int(lengths.sum()) != len(token_ids):
        return {}
    documents: dict[DocumentKey, DocumentTokens] = {}
    chunk, token = 0, 0
    for doc_id, doc_version, title, count in stamp.get("documents", ()):
        chunk_lengths = lengths[chunk : chunk + count]
        size = int(chunk_lengths.sum())
        documents[(doc_id, doc_version, title)] = DocumentTokens(
            chunk_ids[chunk : chunk + count], chunk_lengths, token_ids[token : token + size]
        )
        chunk, token = chunk + count, token + size
    return documents if chunk == len(chunk_ids) else {}


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
