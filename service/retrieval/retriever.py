"""Retrieval: a question → the places in the live papers most likely to answer it.

Hybrid: dense similarity from Chroma and BM25 from the keyword index, each restricted by the
filters inside its own index, fused by weighted reciprocal rank, then weighed by how many of
the question's key terms each passage holds. A question that names a date ("the July 2017
key points") lifts the papers dated then; one that asks two things is also searched part by
part (`question_parts.py`); one asking which papers say something (its answer kind, read
once in `asks.py`) has its results spread across them. The ranked chunks become places
(`places.py`): adjacent chunks join, and text printed twice is shown once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ingest.models import Chunk
from ingest.store.index import PaperIndex, SearchFilters
from service.query.asks import AnswerKind
from service.query.dates import DatesNamed
from service.query.key_terms import Concept, coverage
from service.query.question import Question, QuestionReader, SearchText
from service.retrieval.hits import Hit
from service.retrieval.places import Place, take_places
from service.retrieval.reranking import Reranker
from service.settings import Settings

# A question asking two things is searched whole and part by part. Searched whole, its words
# mostly say one part, so at full weight it would count that part twice.
WHOLE_QUESTION_SHARE = 0.5

Ranking = list[tuple[str, float]]  # chunk ids, best first, with their scores
# Candidates found only deeper than usual score at most this share of the last usual one.
DEEPER_SCORE_SHARE = 0.99


@dataclass
class _Found:
    """What the two retrievers found for one question (or one part of it)."""

    search: SearchText
    dense: Ranking  # cosine similarity, best first
    keyword: Ranking  # BM25, best first
    chunks: dict[str, Chunk]  # the live ones among them


class Retriever:
    def __init__(
        self,
        index: PaperIndex,
        settings: Settings,
        reranker: Reranker | None = None,
        reader: QuestionReader | None = None,
    ) -> None:
        self.index = index
        self.settings = settings
        self.reranker = reranker
        self.reader = reader or QuestionReader(index, settings)

    def search(
        self,
        question: str | Question,
        k: int = 5,
        filters: SearchFilters | None = None,
        closeness: bool = False,
    ) -> list[Hit]:
        """The k places best answering `question` (read here when given as text). With
        `closeness`, each place's closeness to the question is measured where the dense
        search did not find it (an answer weighs it; a list of places does not need it)."""
        if isinstance(question, str):
            question = self.reader.read(question)
        if not question.text:
            return []
        # room for k places when chunks join others or repeat them; k counts places, so a
        # filter admitting few passages may give fewer
        depth = max(self.settings.candidates, k * (self.settings.passage_max_chunks + 1))
        searches = question.searches
        vectors = self._embed_queries([each.expanded for each in searches])
        found = [
            self._found(each, vector, depth, filters)
            for each, vector in zip(searches, vectors, strict=True)
        ]
        chunks: dict[str, Chunk] = {}
        for each in found:
            chunks.update(each.chunks)
        # The order comes from each retriever's usual candidates, so the first places are the
        # same whether ten are asked for or fifty; deeper candidates only follow them.
        ranked = self._ordered(found, chunks, self.settings.candidates)
        if self.reranker is not None:
            ranked = self._rerank(question.whole.expanded, ranked, chunks, self.reranker)
        # "which papers …": its places spread across the papers (the answer lists one each)
        spread = question.asks_for is AnswerKind.PAPERS and self.settings.across_papers_discount < 1
        if spread:
            ranked = _spread_across_papers(ranked, chunks, self.settings.across_papers_discount)
        if depth > self.settings.candidates:
            taken = {chunk_id for chunk_id, _ in ranked}
            deeper = [item for item in self._ordered(found, chunks, depth) if item[0] not in taken]
            if spread:
                deeper = _spread_across_papers(deeper, chunks, self.settings.across_papers_discount)
            ranked += _below(deeper, ranked)
        places = take_places(ranked, chunks, k, self.settings.passage_max_chunks)
        # The whole question's own scores: the evidence check weighs the best similarity
        # against a threshold set for whole questions, and the answerer each chunk's.
        dense = dict(found[0].dense)
        if closeness:
            dense |= self._closeness(vectors[0], dense, places)
        keyword = dict(found[0].keyword[: self.settings.candidates])
        return [
            Hit(
                chunk=chunks[place.chunk_id],
                score=place.score,
                dense=dense.get(place.chunk_id),
                keyword=keyword.get(place.chunk_id),
                joined=[chunks[other] for other in place.joined],
                repeats=[chunks[other] for other in place.repeats],
            )
            for place in places
        ]

    def _closeness(
        self, vector: list[float], found: dict[str, float], places: list[Place]
    ) -> dict[str, float]:
        """The cosine similarity of the question and each place's ranked chunk that only the
        keyword index found, from the chunk's stored vector: a passing mention the embedding
        missed is no less close for that."""
        missing = [place.chunk_id for place in places if place.chunk_id not in found]
        if not missing:
            return {}
        question = np.asarray(vector, dtype=np.float32)
        question /= np.linalg.norm(question) or 1.0
        return {
            chunk_id: float(unit @ question)
            for chunk_id, unit in self.index.unit_vectors(missing).items()
        }

    def _embed_queries(self, texts: list[str]) -> list[list[float]]:
        """One batch when the model can embed several queries at once (a two-part question
        embeds three texts), else one at a time."""
        embeddings = self.index.embeddings
        batch = getattr(embeddings, "embed_queries", None)
        if batch is not None and len(texts) > 1:
            return list(batch(texts))
        return [embeddings.embed_query(text) for text in texts]

    def _found(
        self, search: SearchText, vector: list[float], depth: int, filters: SearchFilters | None
    ) -> _Found:
        """What each retriever finds for one text searched: its expanded text (acronyms
        spelt both ways) by keyword, `vector` (its embedding) by meaning."""
        dense = self.index.dense_search(vector, depth, filters)
        keyword = self._keyword_ranking(search.expanded, depth, filters)
        live = self.index.manifest.chunks_by_id(dict(dense) | dict(keyword))
        return _Found(search, dense, keyword, live)

    def _ordered(self, found: list[_Found], chunks: dict[str, Chunk], depth: int) -> Ranking:
        """The chunks best first from each retriever's best `depth`: for one question, its
        fused ranking; for a question and its parts, their rankings summed."""
        rankings = [self._ranking(each, chunks, depth) for each in found]
        if len(rankings) == 1:
            return rankings[0]
        # the whole question's ranking with each part's: each part's best passages rise, and
        # what answers several parts rises most
        return _sum_of_scaled_scores(rankings[0], rankings[1:])

    def _ranking(self, found: _Found, chunks: dict[str, Chunk], depth: int) -> Ranking:
        """Fused from the dense and keyword rankings' best `depth`, lifted for the dates the
        question names and weighed by the key terms held; live chunks only."""
        fused = self._fuse(found.dense[:depth], found.keyword[:depth])
        fused = {chunk_id: score for chunk_id, score in fused.items() if chunk_id in chunks}
        self._lift_papers_dated_as_named(found.search.dates, fused, chunks)
        self._weigh_by_key_terms_held(found.search.concepts, fused)
        return sorted(fused.items(), key=lambda item: item[1], reverse=True)

    def _keyword_ranking(
        self, query: str, candidates: int, filters: SearchFilters | None
    ) -> Ranking:
        keyword_index = self.index.keyword_index()
        allowed: set[str] | None = None
        if filters is not None and filters != SearchFilters():
            documents = self.index.documents()
            admitted = {doc.meta.doc_id for doc in documents if filters.admits(doc.meta)}
            if len(admitted) < len(documents):  # filters that admit every paper change nothing
                allowed = {
                    cid for cid in keyword_index.chunk_ids if cid.split(":", 1)[0] in admitted
                }
        return keyword_index.best(query, candidates, allowed)

    def _lift_papers_dated_as_named(
        self, named: DatesNamed, fused: dict[str, float], chunks: dict[str, Chunk]
    ) -> None:
        """Add to each chunk's fused score a share of a top rank's worth when its paper is
        dated as the question says: the month and year named, or half as much for the year."""
        if not named or not self.settings.date_weight:
            return
        top_rank_worth = 1.0 / (self.settings.fusion_k + 1)
        for chunk_id in fused:
            meta = chunks[chunk_id].meta
            match = named.match(meta.date if meta else None)
            if match:
                fused[chunk_id] += self.settings.date_weight * match * top_rank_worth

    def _weigh_by_key_terms_held(self, concepts: list[Concept], fused: dict[str, float]) -> None:
        """Scale each chunk's fused score by the share of the question's key concepts it holds
        (rare ones weigh more): BM25 and the embedding both reward a passage that says one of
        the question's terms often, and one that holds every term is the likelier answer."""
        weight = self.settings.term_coverage_weight
        if not weight:
            return
        keyword_index = self.index.keyword_index()
        held = coverage(concepts, keyword_index.holding, len(keyword_index))
        for chunk_id in fused:
            position = keyword_index.position(chunk_id)
            if position is not None:
                fused[chunk_id] *= 1 - weight + weight * float(held[position])

    def _rerank(
        self,
        query: str,
        ranked: Ranking,
        chunks: dict[str, Chunk],
        reranker: Reranker,
    ) -> Ranking:
        """Reorder the best `rerank_depth` chunks by reciprocal rank over the fused order and
        the reranker's. They keep the head's scores, handed out in the new order, so every
        chunk below the head still ranks below it."""
        head, tail = ranked[: self.settings.rerank_depth], ranked[self.settings.rerank_depth :]
        if len(head) < 2:
            return ranked
        scores = reranker.scores(query, [chunks[chunk_id].context_text() for chunk_id, _ in head])
        by_reranker = sorted(range(len(head)), key=lambda i: scores[i], reverse=True)
        reranker_rank = {i: rank for rank, i in enumerate(by_reranker, start=1)}
        weight, constant = self.settings.rerank_weight, self.settings.fusion_k

        def combined(i: int) -> float:
            return (1 - weight) / (constant + i + 1) + weight / (constant + reranker_rank[i])

        order = sorted(range(len(head)), key=combined, reverse=True)
        head_scores = [score for _, score in head]
        return [(head[i][0], head_scores[place]) for place, i in enumerate(order)] + tail

    def _fuse(self, dense: Ranking, keyword: Ranking) -> dict[str, float]:
        """Weighted reciprocal-rank fusion: robust to the two scores' different scales."""
        return _reciprocal_rank_fusion(
            [(self.settings.dense_weight, dense), (self.settings.keyword_weight, keyword)],
            self.settings.fusion_k,
        )


def _below(deeper: Ranking, first: Ranking) -> Ranking:
    """`deeper` scaled, keeping its proportions, to score under the lowest of `first`: they
    are placed after them, and a higher score would say otherwise."""
    lowest = min((score for _, score in first), default=0.0)
    best = max((score for _, score in deeper), default=0.0)
    if not deeper or best < lowest or best <= 0:
        return deeper
    scale = lowest / best * DEEPER_SCORE_SHARE
    return [(chunk_id, score * scale) for chunk_id, score in deeper]


def _reciprocal_rank_fusion(
    weighted_rankings: list[tuple[float, Ranking]], constant: int
) -> dict[str, float]:
    """Each chunk's sum over the rankings of weight / (constant + its rank there)."""
    fused: dict[str, float] = {}
    for weight, ranking in weighted_rankings:
        for rank, (chunk_id, _) in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (constant + rank)
    return fused


def _sum_of_scaled_scores(whole: Ranking, parts: list[Ranking]) -> Ranking:
    """The rankings of a question and of its parts as one: each chunk's scores summed, each
    ranking's scaled so its best chunk scores 1 (the whole question's to `WHOLE_QUESTION_SHARE`).
    By score, not rank: a chunk first for one part stays above one middling for every part,
    which reciprocal rank would lift over it. The sums are mapped back onto the whole
    question's scale, so a two-part question's scores read like a one-part one's."""
    summed: dict[str, float] = {}
    weighted = [(WHOLE_QUESTION_SHARE, whole), *((1.0, part) for part in parts)]
    for share, ranking in weighted:
        best = ranking[0][1] if ranking else 0.0
        for chunk_id, score in ranking:
            summed[chunk_id] = summed.get(chunk_id, 0.0) + (share * score / best if best > 0 else 0)
    scale = (whole[0][1] if whole and whole[0][1] > 0 else 1.0) / sum(w for w, _ in weighted)
    return sorted(
        ((chunk_id, score * scale) for chunk_id, score in summed.items()),
        key=lambda item: item[1],
        reverse=True,
    )


def _spread_across_papers(ranked: Ranking, chunks: dict[str, Chunk], discount: float) -> Ranking:
    """Greedy re-ranking of the whole list: each passage's score is multiplied by `discount`
    once for every passage of the same paper placed above it. Scores stay the fused ones.
    Each paper's passages keep their order, so the next pick is one of the papers' best left;
    and the first places do not depend on how many are asked for."""
    queues: dict[str, deque[tuple[int, str, float]]] = {}
    for position, (chunk_id, score) in enumerate(ranked):
        queues.setdefault(chunks[chunk_id].doc_id, deque()).append((position, chunk_id, score))
    shown = dict.fromkeys(queues, 0)
    spread: Ranking = []

    def discounted(doc_id: str) -> tuple[float, int]:
        position, _, score = queues[doc_id][0]
        return score * discount ** shown[doc_id], -position  # ties: the higher ranked

    while queues:
        doc_id = max(queues, key=discounted)
        _, chunk_id, score = queues[doc_id].popleft()
        spread.append((chunk_id, score))
        shown[doc_id] += 1
        if not queues[doc_id]:
            del queues[doc_id]
    return spread
