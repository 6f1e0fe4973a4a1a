"""The extractive answerer: no LLM. It picks the sentences of the retrieved passages that
answer the question, orders them, and cites each one.

Each sentence is scored by its meaning's closeness to the question (the same embedding model
as retrieval) and by the question's key terms it contains; the best few, grouped by passage
and kept in reading order within a passage, make the answer. Quotes are cut from the chunk
text by character span, so they are verbatim by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.reading.structure import LIST_MARK, looks_like_heading
from ingest.store.index import PaperIndex
from ingest.text.sentences import sentence_spans
from ingest.text.tokens import Tokenizer
from service.answers import NOT_COVERED, AnswerResult, Citation
from service.answers.evidence import check_evidence_with, states_figure
from service.citations import quote_pages
from service.query.question import Question
from service.retrieval.hits import Hit, chunk_hits
from service.settings import Settings

MIN_SENTENCE_CHARS = 25
# A sentence must score this share of the best sentence's score to join the answer.
KEEP_SHARE = 0.8
# A sentence longer than this is a table or a contents list run together, not a statement.
MAX_SENTENCE_WORDS = 70
# A list run together after its lead-in ("Our priorities for 2017/18 are to: Support …") is
# one statement, and the answer to "which priorities …": it may run this long.
MAX_LIST_WORDS = 130
LEAD_IN_SHARE = 0.4  # the colon ending a lead-in falls in this first share of the words
# How much a number in a sentence counts when the question asks for one.
FIGURE_BONUS = 0.15


@dataclass
class _Candidate:
    hit_rank: int
    hit: Hit
    start: int
    end: int
    text: str
    score: float = 0.0


class ExtractiveAnswerer:
    mode = "extractive"

    def __init__(self, index: PaperIndex, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self.tokenizer = Tokenizer()

    def answer(self, question: Question, hits: list[Hit]) -> AnswerResult:
        hits = chunk_hits(hits[: self.settings.answer_passages])
        check = check_evidence_with(question, hits, self.index, self.settings)
        if not check.supported:
            return AnswerResult(NOT_COVERED, answered=False, mode=self.mode, passages=hits)
        chosen = self._choose(question, self._candidates(hits, question.asks_for_figure))
        if not chosen:
            return AnswerResult(NOT_COVERED, answered=False, mode=self.mode, passages=hits)
        return self._compose(chosen, hits)

    def _candidates(self, hits: list[Hit], wants_figure: bool) -> list[_Candidate]:
        candidates = []
        for rank, hit in enumerate(hits):
            text = hit.chunk.text
            for start, end in sentence_spans(text):
                mark = LIST_MARK.match(text[start:end])
                if mark:
                    start += mark.end()
                sentence = text[start:end]
                if len(sentence) >= MIN_SENTENCE_CHARS and _reads_as_statement(
                    sentence, wants_figure
                ):
                    candidates.append(_Candidate(rank, hit, start, end, sentence))
        return candidates

    def _choose(self, question: Question, candidates: list[_Candidate]) -> list[_Candidate]:
        if not candidates:
            return []
        vectors = np.asarray(
            self.index.embeddings.embed_documents([question.text] + [c.text for c in candidates])
        )
        similarity = vectors[1:] @ vectors[0]
        key_terms = question.stems
        wants_figure = question.asks_for_figure
        for candidate, meaning in zip(candidates, similarity, strict=True):
            terms = set(self.tokenizer(candidate.text))
            overlap = len(key_terms & terms) / len(key_terms) if key_terms else 0.0
            prior = 0.05 / (1 + candidate.hit_rank)
            candidate.score = 0.6 * float(meaning) + 0.4 * overlap + prior
            if wants_figure:
                # A "how many" question is answered by a sentence with a number in it.
                candidate.score += FIGURE_BONUS if states_figure(candidate.text) else -FIGURE_BONUS
        ranked = sorted(candidates, key=lambda c: c.score, reverse=True)
        best = ranked[0].score
        chosen: list[_Candidate] = []
        seen: set[str] = set()
        for candidate in ranked:
            if len(chosen) >= self.settings.answer_sentences or candidate.score < KEEP_SHARE * best:
                break
            key = " ".join(self.tokenizer(candidate.text))
            if key in seen:
                continue  # the same sentence in another paper or chunk adds nothing
            seen.add(key)
            chosen.append(candidate)
        return chosen

    def _compose(self, chosen: list[_Candidate], hits: list[Hit]) -> AnswerResult:
        # Group by passage (best passage first), reading order within a passage.
        passage_order: dict[int, float] = {}
        for candidate in chosen:
            passage_order[candidate.hit_rank] = max(
                passage_order.get(candidate.hit_rank, 0.0), candidate.score
            )
        ordered = sorted(chosen, key=lambda c: (-passage_order[c.hit_rank], c.hit_rank, c.start))
        citations: list[Citation] = []
        parts: list[str] = []
        page_cache: dict[str, dict[int, str]] = {}
        for n, candidate in enumerate(ordered, start=1):
            chunk = candidate.hit.chunk
            if chunk.doc_id not in page_cache:
                page_cache[chunk.doc_id] = self.index.manifest.page_texts(chunk.doc_id)
            page, page_end = quote_pages(candidate.text, chunk, page_cache[chunk.doc_id])
            citations.append(Citation(n, candidate.text, chunk, page, page_end))
            sentence = candidate.text.rstrip()
            if not sentence.endswith((".", "!", "?", ":", ";")):
                sentence += "."
            parts.append(f"{sentence} [{n}]")
        return AnswerResult(" ".join(parts), True, self.mode, citations, hits)


def _reads_as_statement(sentence: str, wants_figure: bool) -> bool:
    """A sentence that can stand in an answer: not a heading, a title line, a contents or
    contact list, or an over-long table run together. A short table of figures does answer
    a "how much" question."""
    words = sentence.split()
    limit = MAX_LIST_WORDS if _introduces_list(words) else MAX_SENTENCE_WORDS
    if len(words) > limit or "...." in sentence or "@" in sentence:
        return False
    if wants_figure and states_figure(sentence):
        return True
    if looks_like_heading(sentence):
        return False
    lower = sum(1 for w in words if w[:1].islower())
    return lower >= 0.3 * len(words)  # title-case runs are names and headings


def _introduces_list(words: list[str]) -> bool:
    lead_in = words[: max(1, int(len(words) * LEAD_IN_SHARE))]
    return any(word.endswith(":") for word in lead_in)
