"""Evaluation against a gold question file, scored by the project's shared rule.

A retrieved passage hits a gold quote when it is from the same document and the longest
stretch of the normalised quote found verbatim in the normalised passage covers at least 80%
of the quote. Per answerable question at cut-off k: hit@k, all@k, evidence recall@k and MRR;
for unanswerable questions, whether the answerer refused.

Answers are scored by the same rule's answer part: per answerable question of type fact,
paraphrase, filtered or multi, whether the answer's first citation (`cited_first`) or any of
them (`cited_any`) overlaps a gold quote of the same document (60% of the shorter text found
verbatim in the longer, normalised), and over the questions whose reference answer holds
figures, the share of those figures the answer's text or quotes give (`figures`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from service.answers import AnswerResult

COVERAGE = 0.8
CITATION_OVERLAP = 0.6
# The question types whose answers are scored (a theme question's answer is a list of places).
ANSWER_TYPES = frozenset({"fact", "paraphrase", "filtered", "multi"})
# A figure: a run of digits with any £ , . or %; two characters or more once those are dropped.
_FIGURE = re.compile(r"£?\d[\d,.]*%?")
_CURLY = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})
_OTHER = re.compile(r"[^a-z0-9£%]+")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().translate(_CURLY)
    return _OTHER.sub(" ", text).strip()


def _longest_shared(a: str, b: str) -> int:
    return SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b)).size


def quote_hit(quote: str, passage: str) -> bool:
    """Whether `passage` holds at least 80% of `quote` as one verbatim stretch (normalised)."""
    q, p = normalise(quote), normalise(passage)
    if not q:
        return False
    if q in p:
        return True
    return _longest_shared(q, p) >= COVERAGE * len(q)


def quotes_overlap(cited: str, gold: str) -> bool:
    """Whether 60% of the shorter of two quotes appears verbatim in the longer (normalised)."""
    shorter, longer = sorted((normalise(cited), normalise(gold)), key=len)
    if not shorter:
        return False
    return shorter in longer or _longest_shared(shorter, longer) >= CITATION_OVERLAP * len(shorter)


def figures_in(text: str) -> set[str]:
    """The figures a text gives, as the rule compares them: commas, £ and % dropped."""
    found = set()
    for match in _FIGURE.finditer(text):
        figure = match.group(0).rstrip(".,").replace(",", "").replace("£", "").replace("%", "")
        if len(figure) >= 2:
            found.add(figure)
    return found


@dataclass
class Passage:
    doc: str  # the document's file name; compared by `document_key`
    text: str


# The rule names a document by its file name without extension; a gold `doc` or a passage's
# source may carry one (`minutes.pdf`), and a name's dots elsewhere ("2023.24") are its own.
_DOCUMENT_SUFFIX = re.compile(r"\.(?:pdf|docx?|html?|md|txt)$", re.IGNORECASE)


def document_key(name: str) -> str:
    """A document's name as the rule compares it: the file name without extension."""
    return _DOCUMENT_SUFFIX.sub("", Path(name).name)


def same_document(a: str, b: str) -> bool:
    return document_key(a) == document_key(b)


@dataclass
class QuestionScore:
    """Where one answerable question's gold quotes first appear in its one ranked list."""

    id: str
    type: str
    ranks: list[int | None]  # per gold quote: the rank (1-based) of the first place holding it

    def hits(self, k: int) -> list[bool]:
        return [rank is not None and rank <= k for rank in self.ranks]

    def first_rank(self, k: int) -> int | None:
        return min((rank for rank in self.ranks if rank is not None and rank <= k), default=None)


@dataclass
class Answer:
    """What the answerer gave: whether it answered, the text, and each citation in order."""

    answered: bool
    text: str
    citations: list[Passage]  # the cited document and the quote


@dataclass
class AnswerScore:
    id: str
    type: str
    cited_first: bool
    cited_any: bool
    figures_wanted: int  # figures in the reference answer
    figures_given: int  # of those, the ones in the answer's text or quotes


def answer_of(result: AnswerResult) -> Answer:
    """An answerer's result as the rule reads it: each citation's document and quote."""
    cited = [Passage(c.chunk.meta.source, c.quote) for c in result.citations]
    return Answer(result.answered, result.answer, cited)


def score_answer(question: dict[str, Any], answer: Answer) -> AnswerScore:
    gold = question["evidence"]
    cited = answer.citations if answer.answered else []
    matches = [
        any(same_document(c.doc, e["doc"]) and quotes_overlap(c.text, e["quote"]) for e in gold)
        for c in cited
    ]
    wanted = figures_in(question.get("answer", ""))
    given = figures_in(" ".join([answer.text, *(c.text for c in cited)])) if cited else set()
    return AnswerScore(
        question["id"],
        question["type"],
        cited_first=bool(matches) and matches[0],
        cited_any=any(matches),
        figures_wanted=len(wanted),
        figures_given=len(wanted & given),
    )


@dataclass
class EvalReport:
    """Every cut-off is scored on one ranked list, retrieved once at the deepest: the first
    five places @5 are the first five of the list @10, as `/search` returns them."""

    ks: list[int]
    scores: list[QuestionScore] = field(default_factory=list)
    refusals: dict[str, bool] = field(default_factory=dict)  # question id → refused
    answered_answerable: dict[str, bool] = field(default_factory=dict)
    answers: list[AnswerScore] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return max(self.ks)

    def answer_figures(self) -> dict[str, Any]:
        """`cited_first`, `cited_any` and `figures` by the shared rule (empty when answers
        were not scored)."""
        if not self.answers:
            return {}
        n = len(self.answers)
        wanted = sum(a.figures_wanted for a in self.answers)
        return {
            "answers_scored": n,
            "cited_first": round(sum(a.cited_first for a in self.answers) / n, 3),
            "cited_any": round(sum(a.cited_any for a in self.answers) / n, 3),
            "figures": round(sum(a.figures_given for a in self.answers) / wanted, 3)
            if wanted
            else None,
        }

    def retrieval_figures(self, k: int) -> dict[str, float]:
        n = len(self.scores) or 1
        hits = [score.hits(k) for score in self.scores]
        first = [score.first_rank(k) for score in self.scores]
        return {
            f"hit@{k}": round(sum(any(h) for h in hits) / n, 3),
            f"all@{k}": round(sum(all(h) for h in hits) / n, 3),
            f"evidence_recall@{k}": round(sum(sum(h) / len(h) for h in hits) / n, 3),
            f"mrr@{k}": round(sum(1 / rank for rank in first if rank) / n, 3),
        }

    def figures(self) -> dict[str, Any]:
        unanswerable = self.refusals
        answerable = self.answered_answerable
        figures: dict[str, Any] = {"questions": len(self.scores)}
        for k in self.ks:
            figures.update(self.retrieval_figures(k))
        figures["mrr"] = figures[f"mrr@{self.depth}"]
        return {
            **figures,
            "unanswerable": len(unanswerable),
            "unanswerable_refused": sum(unanswerable.values()),
            "answerable_answered_share": round(
                sum(answerable.values()) / len(answerable), 3
            ) if answerable else None,
            **self.answer_figures(),
        }  # fmt: skip

    def by_type(self, k: int) -> dict[str, float]:
        """hit@k per question type."""
        types: dict[str, list[QuestionScore]] = {}
        for score in self.scores:
            types.setdefault(score.type, []).append(score)
        return {t: round(sum(any(s.hits(k)) for s in group) / len(group), 3)
                for t, group in sorted(types.items())}  # fmt: skip


def load_questions(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def quote_ranks(evidence: list[dict[str, str]], passages: list[Passage]) -> list[int | None]:
    """Per gold quote, the rank (1-based) of the first passage holding it, or None."""
    return [
        next((rank for rank, p in enumerate(passages, start=1)
              if same_document(p.doc, e["doc"]) and quote_hit(e["quote"], p.text)), None)
        for e in evidence
    ]  # fmt: skip


def score_question(question: dict[str, Any], passages: list[Passage]) -> QuestionScore:
    return QuestionScore(
        question["id"], question["type"], quote_ranks(question["evidence"], passages)
    )


def evaluate(
    questions: Iterable[dict[str, Any]],
    retrieve: Callable[[str, int], list[Passage]],
    ks: Sequence[int],
    answer: Callable[[str], Answer] | None = None,
) -> EvalReport:
    """Score `retrieve` (question, k → passages), asked once per question for the deepest
    cut-off, and, if given, `answer` (question → the answer and its citations)."""
    report = EvalReport(ks=sorted(set(ks)))
    for question in questions:
        given = answer(question["question"]) if answer is not None else None
        if not question["evidence"]:
            if given is not None:
                report.refusals[question["id"]] = not given.answered
            continue
        passages = retrieve(question["question"], report.depth)[: report.depth]
        report.scores.append(score_question(question, passages))
        if given is not None:
            report.answered_answerable[question["id"]] = given.answered
            if question["type"] in ANSWER_TYPES:
                report.answers.append(score_answer(question, given))
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
    """Every gold quote the report's deepest list did not hold, with its rank among `depth`
    places; only questions with a miss are searched again. The retriever's first places do
    not depend on how many are asked for, so these ranks continue the report's list."""
    scores = {score.id: score for score in report.scores}
    misses: list[Miss] = []
    for question in questions:
        score = scores.get(question["id"])
        if score is None or all(score.hits(report.depth)):
            continue
        ranks = quote_ranks(question["evidence"], retrieve(question["question"], depth))
        misses += [
            Miss(question["id"], e["doc"], e["quote"], rank)
            for e, hit, rank in zip(
                question["evidence"], score.hits(report.depth), ranks, strict=True
            )
            if not hit
        ]
    return misses
