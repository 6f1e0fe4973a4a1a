"""The LLM summariser: a chat model writes the purpose, key points and figures in plain words,
each backed by a quote it must copy from a numbered excerpt; quotes are checked as in `/ask`
(verbatim in the excerpt, and on the excerpt's page) and any that fail are dropped.

The excerpts are the extractive summariser's best sentences, so a 200-page pack fits in one
prompt. Recommendations, decisions and the agenda are never paraphrased: they come verbatim
from the structured extraction, as in the extractive summary.
"""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_core.language_models import BaseChatModel

from ingest.store.index import PaperIndex
from service.citations import is_verbatim, on_pages
from service.llm.prompts import load_chat_prompt
from service.settings import Settings
from service.summaries import DocumentSummary, SummaryPoint
from service.summaries.candidates import Candidate
from service.summaries.extractive import ExtractiveSummariser, cite, select

EXCERPTS = 40
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


class LLMSummariser:
    mode = "llm"

    def __init__(self, index: PaperIndex, settings: Settings, llm: BaseChatModel) -> None:
        self.index = index
        self.settings = settings
        self.llm = llm
        self.extractive = ExtractiveSummariser(index, settings)
        self.prompt = load_chat_prompt(settings.prompts_dir, "summary")

    def summarise(self, doc_id: str) -> DocumentSummary:
        summary = self.extractive.summarise(doc_id)  # header, decisions, agenda, fallbacks
        summary.mode = self.mode
        chunks = self.index.manifest.document_chunks(doc_id)
        found = self.extractive.scored_candidates(chunks)
        excerpts = select(found, self.extractive._vectors(chunks), EXCERPTS)
        if not excerpts:
            return summary
        pages = self.index.manifest.page_texts(doc_id)
        reply = self._ask(summary, excerpts)
        purpose = self._checked([reply.get("purpose")], excerpts, pages, summary.warnings)
        key_points = self._checked(reply.get("key_points"), excerpts, pages, summary.warnings)
        figures = self._checked(reply.get("figures"), excerpts, pages, summary.warnings)
        if purpose:
            summary.purpose = purpose[0]
        if key_points:
            summary.key_points = key_points
        else:
            summary.warnings.append("the LLM gave no checkable key points; extractive ones shown")
        summary.figures = figures
        return summary

    def _ask(self, summary: DocumentSummary, excerpts: list[Candidate]) -> dict[str, Any]:
        numbered = "\n".join(
            f"[{n}] (p. {c.chunk.page}) {c.text}" for n, c in enumerate(excerpts, start=1)
        )
        message = (self.prompt | self.llm).invoke(
            {
                "title": summary.title, "body": summary.body, "date": summary.date or "undated",
                "doc_type": summary.doc_type, "pages": summary.pages, "excerpts": numbered,
            }
        )  # fmt: skip
        text = _FENCE.sub("", str(message.content).strip())
        try:
            reply = json.loads(text)
        except json.JSONDecodeError:
            summary.warnings.append("the LLM's reply was not JSON; extractive points shown")
            return {}
        return reply if isinstance(reply, dict) else {}

    def _checked(
        self, raw: Any, excerpts: list[Candidate], pages: dict[int, str], warnings: list[str]
    ) -> list[SummaryPoint]:
        points: list[SummaryPoint] = []
        for item in raw if isinstance(raw, list) else []:
            if not isinstance(item, dict):
                continue
            text, quote = str(item.get("text", "")).strip(), str(item.get("quote", "")).strip()
            number = item.get("excerpt")
            if not isinstance(number, int) or not 1 <= number <= len(excerpts) or not text:
                warnings.append(f"dropped a point citing no excerpt: {text[:60]}")
                continue
            source = cite(excerpts[number - 1], pages)
            if not is_verbatim(quote, source.quote) or not on_pages(
                quote, pages, source.page, source.page_end
            ):
                warnings.append(
                    f"dropped a point whose quote is not in excerpt {number}: {quote[:60]}"
                )
                continue
            points.append(
                SummaryPoint(
                    text, quote, source.page, source.page_end, source.paragraph, source.section
                )
            )
        return points
