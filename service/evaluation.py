"""Evaluation against a gold question file, scored by the project's shared rule.

A retrieved passage hits a gold quote when it is from the same document and the longest
stretch of the normalised quote found verbatim in the normalised passage covers at least 80%
of the quote. Per answerable question at cut-off k: hit@k, all@k, evidence recall@k and MRR;
for unanswerable questions, whether the answerer refused.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

COVERAGE = 0.8
_CURLY = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})
_OTHER = re.compile(r"[^a-z0-9£%]+")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().translate(_CURLY)
    return _OTHER.sub(" ", text).strip()


def quote_hit(quote: str, passage: str) -> bool:
    """Whether `passage` holds at least 80% of `quote` as one verbatim stretch (normalised)."""
    q, p = normalise(quote), normalise(passage)
    if not q:
        return False
    if q in p:
        return True
    match = SequenceMatcher(None, q, p, autojunk=False).find_longest_match(0, len(q), 0, len(p))
    return match.size >= COVERAGE * len(q)


@dataclass
class Passage:
    doc: str  # file name without extension
    text: str


@dataclass
class QuestionScore:
    id: str
    type: str
    hits: list[bool]  # per gold quote: hit within k
    first_rank: int | None  # rank (1-based) of the first passage hitting any gold quote


@dataclass
class EvalReport:
    k: int
    scores: list[QuestionScore] = field(default_factory=list)
    refusals: dict[str, bool] = field(default_factory=dict)  # question id → refused
    answered_answerable: dict[str, bool] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        n = len(self.scores) or 1
        unanswerable = self.refusals
        answerable = self.answered_answerable
        return {
            "questions": len(self.scores),
            f"hit@{self.k}": round(sum(any(s.hits) for s in self.scores) / n, 3),
            f"all@{self.k}": round(sum(all(s.hits) for s in self.scores) / n, 3),
            f"evidence_recall@{self.k}": round(
                sum(sum(s.hits) / len(s.hits) for s in self.scores) / n, 3
            ),
            "mrr": round(sum(1 / s.first_rank for s in self.scores if s.first_rank) / n, 3),
            "unanswerable": len(unanswerable),
            "unanswerable_refused": sum(unanswerable.values()),
            "answerable_answered_share": round(
                sum(answerable.values()) / len(answerable), 3
            ) if answerable else None,
        }  # fmt: skip

    def by_type(self) -> dict[str, float]:
        types: dict[str, list[QuestionScore]] = {}
        for score in self.scores:
            types.setdefault(score.type, []).append(score)
        return {t: round(sum(any(s.hits) for s in group) / len(group), 3)
                for t, group in sorted(types.items())}  # fmt: skip


def load_questions(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def quote_ranks(evidence: list[dict[str, str]], passages: list[Passage]) -> list[int | None]:
    """Per gold quote, the rank (1-based) of the first passage holding it, or None."""
    return [
        next((rank for rank, p in enumerate(passages, start=1)
              if p.doc == e["doc"] and quote_hit(e["quote"], p.text)), None)
        for e in evidence
    ]  # fmt: skip


def score_question(question: dict[str, Any], passages: list[Passage], k: int) -> QuestionScore:
    ranks = quote_ranks(question["evidence"], passages[:k])
    hits = [rank is not None for rank in ranks]
    first_rank = min((rank for rank in ranks if rank is not None), default=None)
    return QuestionScore(question["id"], question["type"], hits, first_rank)


def evaluate(
    questions: Iterable[dict[str, Any]],
    retrieve: Callable[[str, int], list[Passage]],
    k: int,
    answered: Callable[[str], bool] | None = None,
) -> EvalReport:
    """Score `retrieve` (question, k → passages) and, if given, `answered` (question → bool)."""
    report = EvalReport(k=k)
    for question in questions:
        if not question["evidence"]:
            if answered is not None:
                report.refusals[question["id"]] = not answered(question["question"])
            continue
        report.scores.append(score_question(question, retrieve(question["question"], k), k))
        if answered is not None:
            report.answered_answerable[question["id"]] = answered(question["question"])
    return report


@dataclass
class Miss:
    """A gold quote not in the top k, and where it first appears when `depth` places are
    asked for (None: not within them), so the gap between k and the quote can be read."""

    question_id: str
    doc: str
    quote: str
    rank: int | None


def find_misses(
    questions: Iterable[dict[str, Any]],
    report: EvalReport,
    retrieve: Callable[[str, int], list[Passage]],
    depth: int,
) -> list[Miss]:
    """Every gold quote the report's top k did not hold, with its rank among `depth` places;
    only questions with a miss are searched again."""
    hits = {score.id: score.hits for score in report.scores}
    misses: list[Miss] = []
    for question in questions:
        found = hits.get(question["id"])
        if found is None or all(found):
            continue
        ranks = quote_ranks(question["evidence"], retrieve(question["question"], depth))
        misses += [
            Miss(question["id"], e["doc"], e["quote"], rank)
            for e, hit, rank in zip(question["evidence"], found, ranks, strict=True)
            if not hit
        ]
    return misses
