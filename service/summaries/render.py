"""Summaries as Markdown: one page per paper, and a digest of a run's papers."""

from __future__ import annotations

from service.summaries import DocumentSummary, SummaryDecision, SummaryPoint

_KIND_LABELS = {"recommendation": "Recommended", "resolution": "Resolved", "agreed": "Agreed"}


def where(point: SummaryPoint) -> str:
    pages = (
        f"p. {point.page}" if point.page == point.page_end else f"pp. {point.page}–{point.page_end}"
    )
    return pages + (f", para {point.paragraph}" if point.paragraph else "")


def cited(point: SummaryPoint) -> str:
    """A point with its citation; a paraphrase (LLM mode) also shows the quote behind it."""
    if point.text == point.quote:
        return f"“{point.quote}” ({where(point)})"
    return f"{point.text} — “{point.quote}” ({where(point)})"


def summary_markdown(summary: DocumentSummary) -> str:
    lines = [f"# {summary.title}", ""]
    facts = [summary.body, summary.date or "undated", summary.doc_type, f"{summary.pages} pages"]
    lines.append(" · ".join(facts) + "  ")
    if summary.meeting:
        lines.append(f"Meeting: {summary.meeting}  ")
    lines.append(f"Summary: {summary.mode}; document version {summary.version[:12]}")
    lines.append("")
    if summary.purpose:
        lines += ["## What it is for", "", cited(summary.purpose), ""]
    elif summary.agenda:
        lines += ["## What it is for", "", pack_description(summary), ""]
    if summary.agenda:
        lines += ["## Agenda", "", "| No. | Item | Pack pages | Listed on |", "|---|---|---|---|"]
        for item in summary.agenda:
            title = item.title + (f" ({item.presenter})" if item.presenter else "")
            lines.append(
                f"| {item.number} | {title} | {item.printed_pages or '—'} | p. {item.page} |"
            )
        lines.append("")
    if summary.key_points:
        lines += ["## Key points", ""] + [f"- {cited(p)}" for p in summary.key_points] + [""]
    if summary.decisions:
        lines += ["## Recommendations and decisions", ""]
        for decision in summary.decisions:
            lines += _decision_lines(decision)
        lines.append("")
    if summary.figures:
        lines += ["## Notable figures", ""] + [f"- {cited(p)}" for p in summary.figures] + [""]
    if summary.themes:
        lines += ["## Themes", ""]
        for theme in summary.themes:
            lines.append(f"- {theme.label} (pp. {', '.join(map(str, theme.pages))})")
        lines.append("")
    if summary.warnings:
        lines += ["## Notes", ""] + [f"- {w}" for w in summary.warnings] + [""]
    return "\n".join(lines).rstrip() + "\n"


def _decision_lines(decision: SummaryDecision) -> list[str]:
    label = _KIND_LABELS.get(decision.kind, decision.kind.title())
    if decision.lead_in:
        lines = [f"- **{label}**: {cited(decision.lead_in)}"]
    else:
        lines = [f"- **{label}**:"]
    for item in decision.items:
        lines.append(f"  - {cited(item)}")
    return lines


def digest_markdown(summaries: list[DocumentSummary], heading: str = "Digest") -> str:
    lines = [f"# {heading}", "", f"{len(summaries)} paper(s).", ""]
    for summary in summaries:
        lines += [f"## {summary.title}", "", digest_paragraph(summary), ""]
    return "\n".join(lines).rstrip() + "\n"


def digest_paragraph(summary: DocumentSummary) -> str:
    parts = [
        f"{summary.body}, {summary.date or 'undated'} ({summary.doc_type}, {summary.pages} pages; "
        f"[full summary]({summary.doc_id}.md))."
    ]
    if summary.purpose:
        parts.append(f"{_sentence(summary.purpose.text)} ({where(summary.purpose)})")
    if summary.agenda and not summary.purpose:
        parts.append(pack_description(summary))
    formal = [d for d in summary.decisions if d.kind != "agreed"]
    if formal:
        first = formal[0].lead_in or formal[0].items[0]
        noun = "recommendation or decision" if len(formal) == 1 else "recommendations and decisions"
        parts.append(
            f"It records {len(formal)} {noun}, the first: “{first.quote}” ({where(first)})."
        )
    if summary.key_points:
        point = summary.key_points[0]
        parts.append(f"Among its key points: “{point.quote}” ({where(point)})")
    return " ".join(parts)


def pack_description(summary: DocumentSummary) -> str:
    """What an agenda pack is for, from its agenda (cited by the pages that list it)."""
    first, last = summary.agenda[0].page, summary.agenda[-1].page
    pages = f"p. {first}" if first == last else f"pp. {first}–{last}"
    with_papers = sum(1 for item in summary.agenda if item.printed_pages)
    return (
        f"The papers for the meeting of {summary.meeting or summary.body}: an agenda of "
        f"{len(summary.agenda)} items, {with_papers} of them with reports ({pages})."
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."
