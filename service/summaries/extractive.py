"""The extractive summariser: no LLM; every point is a sentence of the paper, quoted.

Key points are the sentences that best stand for the whole paper: each sentence is scored by
how central its chunk is (its stored vector against the paper's mean vector), how many of the
paper's recurring terms it carries, and how early it comes; then picked by maximal marginal
relevance over the chunk vectors, so that ten points cover ten parts of the paper rather than
one part ten times. Recommendations, decisions and the agenda come from the structured
extraction stored at ingest, verbatim.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

from ingest.models import Chunk
from ingest.reading.extraction import Decision, Extraction
from ingest.store.index import PaperIndex
from ingest.store.manifest import StoredDocument
from ingest.text.tokens import Tokenizer
from service.citations import canonical, on_pages, quote_pages
from service.settings import Settings
from service.summaries import DocumentSummary, SummaryAgendaItem, SummaryDecision, SummaryPoint
from service.summaries.candidates import Candidate, candidates, has_figure
from service.summaries.topics import document_phrases, themes

MMR_LAMBDA = 0.7  # weight of a sentence's own score against its likeness to points chosen
MAX_AGREED = 8  # "it was agreed …" sentences shown; formal recommendations are all shown
_PURPOSE = re.compile(
    r"\bpurpose\s+of\s+(?:this|the)\s+(?:report|paper|document|update|agreement|protocol)\b|"
    r"\b(?:this|the)\s+(?:report|paper|document|update|agreement|strategy|protocol|plan)\s+"
    r"(?:provides|sets\s+out|summarises|summarizes|highlights|presents|describes|outlines|"
    r"seeks|updates|aims|gives)\b|^Purpose\b",
    re.IGNORECASE,
)
MEETING_TYPES = {"agenda pack", "minutes", "meeting notes"}
_DECISION = re.compile(r"\bRECOMMENDED\b|\bRESOLVED\b|\b(?:is|are)\s+(?:asked|requested)\s+to\b")


class ExtractiveSummariser:
    mode = "extractive"

    def __init__(self, index: PaperIndex, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self.tokenizer = Tokenizer()
        self._corpus: tuple[int, Counter[str]] | None = None

    def summarise(self, doc_id: str) -> DocumentSummary:
        stored = self.index.document(doc_id)
        if stored is None:
            raise KeyError(doc_id)
        chunks = self.index.manifest.document_chunks(doc_id)
        page_texts = self.index.manifest.page_texts(doc_id)
        extraction_json = self.index.manifest.extraction(doc_id)
        extraction = Extraction.from_json(extraction_json) if extraction_json else Extraction()
        summary = header(stored, self.mode)
        if extraction_json is None:
            summary.warnings.append(
                "ingested before recommendations were extracted: run `boardpapers sync` on its "
                "folder to add them"
            )
        summary.decisions = decisions(extraction, page_texts, summary.warnings)
        summary.agenda = agenda(extraction)
        # Decisions are listed in full on their own; key points say what else the paper says.
        decided = canonical(" ".join(p.quote for p in summary.points()))
        found = [
            c for c in self.scored_candidates(chunks)
            if canonical(c.text) not in decided and not _DECISION.search(c.text)
        ]  # fmt: skip
        # A pack's purpose is its meeting; its reports' purposes are not the pack's.
        summary.purpose = None if summary.agenda else self._purpose(found, page_texts)
        taken = canonical(summary.purpose.quote) if summary.purpose else ""
        found_for_points = [c for c in found if canonical(c.text) != taken]
        chosen = select(found_for_points, self._vectors(chunks), key_point_count(stored.pages))
        summary.key_points = [cite(c, page_texts) for c in chosen]
        summary.figures = self._figures(found_for_points, summary.key_points, page_texts)
        documents, frequency = self._corpus_phrases()
        summary.themes = themes(chunks, frequency, documents)
        return summary

    def scored_candidates(self, chunks: list[Chunk]) -> list[Candidate]:
        found = candidates(chunks)
        if not found:
            return []
        vectors = self._vectors(chunks)
        centrality = _centrality(vectors)
        term_counts: Counter[str] = Counter()
        for chunk in chunks:
            term_counts.update(set(self.tokenizer(chunk.text)))
        for candidate in found:
            terms = set(self.tokenizer(candidate.text))
            salience = sum(math.log1p(term_counts[t]) for t in terms) / (len(terms) + 4)
            candidate.score = salience  # normalised below
        top = max(c.score for c in found) or 1.0
        for candidate in found:
            central = centrality.get(candidate.chunk.chunk_id, 0.0)
            candidate.score = 0.45 * central + 0.45 * candidate.score / top
            candidate.score += 0.1 * (1.0 - candidate.position)
        return found

    def _vectors(self, chunks: list[Chunk]) -> dict[str, np.ndarray]:
        return self.index.unit_vectors([c.chunk_id for c in chunks])

    def _purpose(self, found: list[Candidate], pages: dict[int, str]) -> SummaryPoint | None:
        early = [c for c in found if c.position <= 0.5]
        for candidate in early:
            if _PURPOSE.search(candidate.text):
                return cite(candidate, pages)
        return cite(max(early, key=lambda c: c.score), pages) if early else None

    def _figures(
        self, found: list[Candidate], chosen: list[SummaryPoint], pages: dict[int, str]
    ) -> list[SummaryPoint]:
        taken = {canonical(p.quote) for p in chosen}
        with_figures = [c for c in found if has_figure(c.text) and canonical(c.text) not in taken]
        ranked = sorted(with_figures, key=lambda c: -(c.score + 0.1 * min(c.figures, 3)))
        picked: list[Candidate] = []
        for candidate in ranked:
            if all(candidate.chunk.chunk_id != p.chunk.chunk_id for p in picked):
                picked.append(candidate)
            if len(picked) == 5:
                break
        picked.sort(key=lambda c: (c.chunk.ordinal, c.start))
        return [cite(c, pages) for c in picked]

    def _corpus_phrases(self) -> tuple[int, Counter[str]]:
        """In how many live papers each phrase occurs (computed once per summariser)."""
        if self._corpus is None:
            frequency: Counter[str] = Counter()
            docs = self.index.documents()
            for doc in docs:
                frequency.update(
                    document_phrases(self.index.manifest.document_chunks(doc.meta.doc_id))
                )
            self._corpus = (len(docs), frequency)
        return self._corpus


def header(stored: StoredDocument, mode: str) -> DocumentSummary:
    meta = stored.meta
    meeting = f"{meta.body}, {meta.date}" if meta.doc_type in MEETING_TYPES and meta.date else None
    return DocumentSummary(
        doc_id=meta.doc_id, version=stored.version, mode=mode, title=meta.title,
        body=meta.body, date=meta.date, doc_type=meta.doc_type, meeting=meeting,
        pages=stored.pages, purpose=None,
    )  # fmt: skip


def key_point_count(pages: int) -> int:
    return min(12, 4 + pages // 20)


def select(found: list[Candidate], vectors: dict[str, np.ndarray], count: int) -> list[Candidate]:
    """Maximal marginal relevance over chunk vectors, one sentence per chunk, reading order."""
    pool = sorted(found, key=lambda c: -c.score)[: count * 25]
    chosen: list[Candidate] = []
    while pool and len(chosen) < count:

        def value(candidate: Candidate) -> float:
            vector = vectors.get(candidate.chunk.chunk_id)
            likeness = max(
                (float(vector @ vectors[c.chunk.chunk_id]) for c in chosen
                 if vector is not None and c.chunk.chunk_id in vectors),
                default=0.0,
            )  # fmt: skip
            return MMR_LAMBDA * candidate.score - (1 - MMR_LAMBDA) * likeness

        best = max(pool, key=value)
        chosen.append(best)
        pool = [c for c in pool if c.chunk.chunk_id != best.chunk.chunk_id]
    return sorted(chosen, key=lambda c: (c.chunk.ordinal, c.start))


def cite(candidate: Candidate, pages: dict[int, str]) -> SummaryPoint:
    chunk = candidate.chunk
    page, page_end = quote_pages(candidate.text, chunk, pages)
    return SummaryPoint(
        candidate.text, candidate.text, page, page_end, chunk.paragraph, chunk.section
    )


def decisions(
    extraction: Extraction, pages: dict[int, str], warnings: list[str]
) -> list[SummaryDecision]:
    """The extracted decisions as cited points: repeats (an agenda restating a report's
    recommendation) once, "agreed" sentences capped, any quote not on its page dropped."""
    seen: set[str] = set()
    out: list[SummaryDecision] = []
    agreed = 0
    for decision in extraction.decisions:
        key = canonical(decision.full_text()).lower()
        if key in seen:
            continue
        seen.add(key)
        if decision.kind == "agreed":
            agreed += 1
            if agreed > MAX_AGREED:
                continue

        def point(
            text: str, page: int, page_end: int, decision: Decision = decision
        ) -> SummaryPoint | None:
            if not on_pages(text, pages, page, page_end):
                warnings.append(f"dropped a decision not found on p. {page}: {text[:60]}…")
                return None
            return SummaryPoint(text, text, page, page_end, decision.paragraph, decision.section)

        lead_in = point(decision.text, decision.page, decision.page_end) if decision.text else None
        items = [point(i.text, i.page, i.page_end) for i in decision.items]
        kept = [i for i in items if i is not None]
        if lead_in or kept:
            out.append(SummaryDecision(decision.kind, lead_in, kept))
    return out


def agenda(extraction: Extraction) -> list[SummaryAgendaItem]:
    return [
        SummaryAgendaItem(
            item.number,
            item.title,
            item.page,
            f"{item.first_page}–{item.last_page}" if item.first_page else None,
            item.presenter,
        )  # fmt: skip
        for item in extraction.agenda
    ]


def _centrality(vectors: dict[str, np.ndarray]) -> dict[str, float]:
    if not vectors:
        return {}
    matrix = np.stack(list(vectors.values()))
    centroid = matrix.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    return {cid: float(v @ centroid) for cid, v in vectors.items()}
