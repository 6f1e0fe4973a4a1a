"""The extractive answerer: no LLM. It puts first the statement of the retrieved passages that
states what was asked, adds the few that add to it, and cites each one.

Statements are scored by `scoring.StatementScorer` (meaning, key terms, the asked-for kind,
the passage's closeness) once the evidence check (`evidence.py`) has found the passages cover
the question. A "which papers …" question is answered as a list: one entry per paper, its
best statement, papers in order of that statement's score. Quotes are cut from the chunk text by
character span, so they are verbatim by construction.
"""

from __future__ import annotations

from ingest.store.index import PaperIndex
from ingest.text.tokens import Tokenizer
from service.answers import NOT_COVERED, AnswerResult, Citation
from service.answers.evidence import check_statements
from service.answers.scoring import StatementScorer
from service.answers.statements import Statement, statements_of
from service.citations import QuotePages
from service.query.asks import AnswerKind
from service.query.question import Question
from service.retrieval.hits import Hit, chunk_hits
from service.settings import Settings

# A further statement joins the answer when it scores within this much of the first.
FOLLOWING_MARGIN = 2.5
# Statements sharing this share of their words say the same thing: the second adds nothing.
SAME_STATEMENT_OVERLAP = 0.6


class ExtractiveAnswerer:
    mode = "extractive"

    def __init__(
        self, index: PaperIndex, settings: Settings, weights: dict[str, float] | None = None
    ) -> None:
        self.index = index
        self.settings = settings
        self.weights = weights  # the signals' weights; None: `scoring.SIGNAL_WEIGHTS`

    def answer(self, question: Question, hits: list[Hit]) -> AnswerResult:
        listing = question.asks_for is AnswerKind.PAPERS
        limit = self.settings.list_passages if listing else self.settings.answer_passages
        hits = chunk_hits(hits[:limit])
        tokenizer = self.index.keyword_index().tokenizer
        statements = statements_of(question, hits, tokenizer)
        if not check_statements(question, statements, self.settings).supported:
            return AnswerResult(NOT_COVERED, answered=False, mode=self.mode, passages=hits)
        scorer = StatementScorer(self.index.embeddings, self.weights)
        statements = scorer.ranked(question, statements)
        if listing:
            return self._list(statements, hits)
        return self._prose(following(statements, tokenizer, self.settings.answer_sentences), hits)

    def _list(self, statements: list[Statement], hits: list[Hit]) -> AnswerResult:
        """One entry per paper: its best statement, if its passage is on the subject (as close
        as the evidence check asks) and it holds one of the question's key terms."""
        best_per_paper: dict[str, Statement] = {}
        for statement in statements:  # best first
            signals = statement.signals
            if signals["passage_meaning"] >= self.settings.min_relevance and signals["terms"]:
                best_per_paper.setdefault(statement.hit.chunk.doc_id, statement)
        entries = list(best_per_paper.values())[: self.settings.answer_sentences + 2]
        citations = self._citations(entries)
        items = [f"{_paper_label(c)}: {_as_sentence(c.quote)} [{c.n}]" for c in citations]
        papers = "paper" if len(items) == 1 else "papers"
        lead = f"{len(items)} {papers} of those searched cover this:"
        answer = lead + "".join(f"\n- {item}" for item in items)
        return AnswerResult(answer, True, self.mode, citations, hits, items=items)

    def _prose(self, chosen: list[Statement], hits: list[Hit]) -> AnswerResult:
        citations = self._citations(chosen)
        answer = " ".join(f"{_as_sentence(c.quote)} [{c.n}]" for c in citations)
        return AnswerResult(answer, True, self.mode, citations, hits)

    def _citations(self, chosen: list[Statement]) -> list[Citation]:
        pages_of = QuotePages(self.index.manifest.page_texts)
        return [
            Citation(
                n,
                statement.text,
                statement.hit.chunk,
                *pages_of(statement.text, statement.hit.chunk),
            )
            for n, statement in enumerate(chosen, start=1)
        ]


def following(statements: list[Statement], tokenizer: Tokenizer, most: int) -> list[Statement]:
    """The best statement, then up to `most` in all close to it in score that say something
    else; a chosen sentence gives way to itself with the sentence after it that points back
    at it, which says more."""
    best = statements[0]
    chosen = [best]
    seen = [set(tokenizer(best.text))]
    for statement in statements[1:]:
        if len(chosen) >= most:
            break
        if statement.score < best.score - FOLLOWING_MARGIN:
            break
        stems = set(tokenizer(statement.text))
        extended = next((i for i, c in enumerate(chosen) if _extends(statement, c)), None)
        if extended is not None:
            chosen[extended], seen[extended] = statement, stems
            continue
        if any(_overlap(stems, other) >= SAME_STATEMENT_OVERLAP for other in seen):
            continue
        seen.append(stems)
        chosen.append(statement)
    return chosen


def _extends(longer: Statement, shorter: Statement) -> bool:
    return (
        longer.hit.chunk.chunk_id == shorter.hit.chunk.chunk_id
        and longer.start == shorter.start
        and longer.end > shorter.end
    )


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _as_sentence(quote: str) -> str:
    sentence = " ".join(quote.split())
    return sentence if sentence.endswith((".", "!", "?", ";")) else sentence + "."


def _paper_label(citation: Citation) -> str:
    meta = citation.chunk.meta
    label = meta.title if meta else citation.chunk.doc_id
    # A title that names its year ("… 5 December 2024") needs no date after it.
    if meta and meta.date and meta.date[:4] not in label:
        label += f", {meta.date}"
    return f"{label}, p. {citation.page}"
