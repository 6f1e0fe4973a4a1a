"""How well each candidate statement answers the question: one linear score over its signals.

The weights come from `python -m bench.answer_weights`, which fits them on both development
sets together (a softmax over each question's candidates, the statements overlapping a gold
quote as the targets) and prints each set's figures when fitted on the other alone. They weigh
signals, never questions, documents or phrases. Scoring runs only once the evidence check
(`evidence.py`) has found the papers answer: it embeds statements, the check does not.
"""

from __future__ import annotations

import numpy as np
from langchain_core.embeddings import Embeddings

from service.answers.statements import Statement
from service.query.question import Question

# Fitted on both development sets together by the softmax of `bench.answer_weights` (which
# prints these beside a fresh fit on both sets and on each alone: on 2026-12-07 these put the
# right statement first as often or more often on both sets). Each signal
# here moves `cited_first` on at least one set when switched off (`bench.answers --ablations`);
# the passage's rank (better on both sets without it) and links (no change on either) were
# dropped.
SIGNAL_WEIGHTS: dict[str, float] = {
    "meaning": 3.76,
    "passage_meaning": 3.14,
    "terms": 1.74,
    "terms_in_context": 3.50,
    "kind": 2.71,
    "dated": 1.86,
    "length": -0.41,
}
# Only the statements scoring best with their passage's closeness to the question standing in
# for their own are embedded: embedding every statement would cost more than the search.
MEASURED_MEANINGS = 8
# A statement's meaning is read from its opening words: a batch is padded to its longest text,
# and a list run together after its lead-in would otherwise set the cost of them all.
MEANING_WORDS = 60
SIGNALS = tuple(SIGNAL_WEIGHTS)


class StatementScorer:
    """Scores each candidate statement (`statements.statements_of`) against the question."""

    def __init__(self, embeddings: Embeddings, weights: dict[str, float] | None = None) -> None:
        self.embeddings = embeddings
        self.weights = SIGNAL_WEIGHTS if weights is None else weights

    def ranked(self, question: Question, statements: list[Statement]) -> list[Statement]:
        """The statements scored, best first.

        Each is scored first with its passage's closeness to the question standing in for its
        own; the best `MEASURED_MEANINGS` are then embedded and scored with their own."""
        statements = list(statements)
        for statement in statements:
            statement.signals["meaning"] = statement.signals["passage_meaning"]
            statement.score = self._score(statement)
        statements.sort(key=lambda s: s.score, reverse=True)
        measured = statements[:MEASURED_MEANINGS]
        if measured:
            vectors = np.asarray(
                self.embeddings.embed_documents(
                    [question.text] + [_opening(s.text) for s in measured]
                )
            )
            for statement, closeness in zip(measured, vectors[1:] @ vectors[0], strict=True):
                statement.signals["meaning"] = float(closeness)
                statement.score = self._score(statement)
        return sorted(statements, key=lambda s: s.score, reverse=True)

    def _score(self, statement: Statement) -> float:
        return sum(self.weights[name] * statement.signals[name] for name in SIGNALS)


def _opening(text: str) -> str:
    return " ".join(text.split()[:MEANING_WORDS])
