"""Summaries: one paper → what it is, its purpose, key points, recommendations and decisions
(verbatim), notable figures and themes, every point cited by page, paragraph and quote.

`extractive.py` (no LLM, the default) and `llm.py` (a LangChain chat model, quotes checked)
make a `DocumentSummary`; `store.py` keeps them by document version; `render.py` writes
Markdown; `batch.py` runs `boardpapers summarise`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


@dataclass
class SummaryPoint:
    text: str  # the statement; in an extractive summary, the quote itself
    quote: str  # verbatim from the paper
    page: int
    page_end: int
    paragraph: str | None = None
    section: str = ""


@dataclass
class SummaryDecision:
    kind: str  # "recommendation", "resolution" or "agreed"
    lead_in: SummaryPoint | None  # None when the decision is only its lettered items
    items: list[SummaryPoint] = field(default_factory=list)


@dataclass
class SummaryAgendaItem:
    number: str
    title: str  # verbatim from the agenda
    page: int  # the PDF page the agenda lists it on
    printed_pages: str | None  # "17–22" as the agenda gives them
    presenter: str | None = None


@dataclass
class Theme:
    label: str
    pages: list[int]  # where it comes up most


@dataclass
class DocumentSummary:
    doc_id: str
    version: str  # the document version summarised
    mode: str  # "extractive" or "llm"
    title: str
    body: str
    date: str | None
    doc_type: str
    meeting: str | None
    pages: int
    purpose: SummaryPoint | None
    key_points: list[SummaryPoint] = field(default_factory=list)
    decisions: list[SummaryDecision] = field(default_factory=list)
    agenda: list[SummaryAgendaItem] = field(default_factory=list)
    figures: list[SummaryPoint] = field(default_factory=list)
    themes: list[Theme] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def points(self) -> Iterator[SummaryPoint]:
        """Every cited point, for checking each quote against its page."""
        if self.purpose:
            yield self.purpose
        yield from self.key_points
        yield from self.figures
        for decision in self.decisions:
            if decision.lead_in:
                yield decision.lead_in
            yield from decision.items

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentSummary:
        def point(raw: dict[str, Any] | None) -> SummaryPoint | None:
            return SummaryPoint(**raw) if raw else None

        def points(raws: list[dict[str, Any]]) -> list[SummaryPoint]:
            return [SummaryPoint(**raw) for raw in raws]

        return cls(
            **{
                **data,
                "purpose": point(data.get("purpose")),
                "key_points": points(data.get("key_points", [])),
                "figures": points(data.get("figures", [])),
                "decisions": [
                    SummaryDecision(d["kind"], point(d.get("lead_in")), points(d.get("items", [])))
                    for d in data.get("decisions", [])
                ],
                "agenda": [SummaryAgendaItem(**a) for a in data.get("agenda", [])],
                "themes": [Theme(**t) for t in data.get("themes", [])],
            }
        )


class Summariser(Protocol):
    mode: str

    def summarise(self, doc_id: str) -> DocumentSummary: ...
