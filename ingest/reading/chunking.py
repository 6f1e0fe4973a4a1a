"""Chunking: blocks → paragraph-aligned chunks that fit the embedding model's window.

A chunk never mixes sections, starts at a numbered paragraph or heading, and is cut at
sentence boundaries only when one paragraph alone is longer than the window (the model would
otherwise ignore its tail, so the tail could never be found).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ingest.models import Block, BlockKind, Chunk, DocumentMeta
from ingest.text.sentences import sentence_spans

SECTION_SEPARATOR = " > "
BLOCK_SEPARATOR = "\n\n"
# Budget left for the chunk's own text once the title and section path are prefixed.
MIN_BODY_TOKENS = 96
# A chunk this short is a fragment (a title, a label) and is joined to what follows.
FRAGMENT_TOKENS = 24
# A numbered paragraph starts a fresh chunk unless what precedes it is only a short lead-in.
LEAD_IN_TOKENS = 40
# A paragraph this short, left last in a chunk that ran out of room, is a lead-in or an
# unmarked heading of what follows ("Protect vulnerable people through reducing the risk of
# abuse."), so it moves to the next chunk, as typesetters keep a heading with its text.
KEEP_WITH_NEXT_TOKENS = 20

TokenCounter = Callable[[str], int]


@dataclass
class _Piece:
    """A block, or a sentence run of an over-long block, placed in the document text."""

    block: Block
    start: int
    end: int
    tokens: int


def document_text(blocks: list[Block]) -> str:
    """The document as one string; chunk offsets index into it."""
    return BLOCK_SEPARATOR.join(block.text for block in blocks)


def chunk_blocks(
    blocks: list[Block],
    meta: DocumentMeta,
    version: str,
    count_tokens: TokenCounter,
    max_tokens: int,
) -> list[Chunk]:
    full_text = document_text(blocks)
    pieces = _pieces(blocks, meta, count_tokens, max_tokens)
    groups: list[list[_Piece]] = []
    lead_ins: set[int] = set()  # ids of pieces carried to open the next chunk
    used = 0
    for piece in pieces:
        budget = _body_budget(piece.block, meta, count_tokens, max_tokens)
        current = groups[-1] if groups else None
        if current is None or _starts_new_chunk(current, piece, used, budget):
            lead_in = _lead_in_to_carry(current, piece, used, budget)
            if current is not None and lead_in is not None:
                current.pop()
                lead_ins.add(id(lead_in))
            groups.append([lead_in, piece] if lead_in is not None else [piece])
            used = piece.tokens + (lead_in.tokens if lead_in is not None else 0)
        else:
            current.append(piece)
            used += piece.tokens
    chunks = []
    for ordinal, group in enumerate(groups):
        first, last = group[0], group[-1]
        paragraph = next((p.block.paragraph for p in group if p.block.paragraph), None)
        # a heading or a carried lead-in introduces the chunk; what follows says its kind
        kind = next(
            (
                p.block.kind.value
                for p in group
                if p.block.kind is not BlockKind.HEADING and id(p) not in lead_ins
            ),
            first.block.kind.value,
        )
        chunks.append(
            Chunk(
                chunk_id=f"{meta.doc_id}:{version[:12]}:{ordinal:05d}",
                doc_id=meta.doc_id,
                version=version,
                ordinal=ordinal,
                text=full_text[first.start : last.end],
                page=first.block.page,
                page_end=max(p.block.page_end for p in group),
                section=SECTION_SEPARATOR.join(_section_of(group)),
                paragraph=paragraph,
                kind=kind,
                char_start=first.start,
                char_end=last.end,
                meta=meta,
            )
        )
    return chunks


def _section_of(group: list[_Piece]) -> tuple[str, ...]:
    # A chunk that opens with its heading belongs to that heading's section.
    content = next((p.block for p in group if p.block.kind is not BlockKind.HEADING), None)
    return (content or group[0].block).section


def _starts_new_chunk(current: list[_Piece], piece: _Piece, used: int, budget: int) -> bool:
    if used + piece.tokens > budget:
        return True
    previous = current[-1].block
    block = piece.block
    if block is previous:
        return False  # sentence runs of one long block were already sized to fit
    if all(p.block.kind is BlockKind.HEADING for p in current) or used < FRAGMENT_TOKENS:
        # A heading, a title line or a stray fragment belongs with what follows it: alone,
        # its few words match every question about its subject and say nothing.
        return False
    if block.section != previous.section and previous.kind is not BlockKind.HEADING:
        return True
    if block.kind in (BlockKind.HEADING, BlockKind.AGENDA_ITEM):
        return True
    numbered = block.kind is BlockKind.NUMBERED and not (block.paragraph or "").startswith("(")
    lettered = (block.paragraph or "")[:1] == "(" or (block.paragraph or "").endswith(")")
    return numbered and not lettered and used > LEAD_IN_TOKENS


def _lead_in_to_carry(
    current: list[_Piece] | None, piece: _Piece, used: int, budget: int
) -> _Piece | None:
    """The short plain paragraph ending `current`, when the chunk broke for room alone (not
    at a section or heading), it fits with `piece`, and what stays behind is more than a
    heading or a fragment."""
    if current is None or len(current) < 2 or used + piece.tokens <= budget:
        return None
    last = current[-1]
    if last.block is piece.block or last.block is current[-2].block:
        return None  # a sentence run of a long block, not a paragraph of its own
    if last.block.kind is not BlockKind.PARAGRAPH or last.block.paragraph:
        return None  # a numbered paragraph or list item is content, not a lead-in
    if len(re.findall(r"[A-Za-z]{2,}", last.block.text)) < 2:
        return None  # a stray mark ("•") or a lone word
    if last.tokens > KEEP_WITH_NEXT_TOKENS or last.block.section != piece.block.section:
        return None
    staying = current[:-1]
    if all(p.block.kind is BlockKind.HEADING for p in staying):
        return None
    if used - last.tokens < FRAGMENT_TOKENS:
        return None
    if piece.block.kind in (BlockKind.HEADING, BlockKind.AGENDA_ITEM):
        return None
    if last.tokens + piece.tokens > budget:
        return None
    return last


def _body_budget(block: Block, meta: DocumentMeta, count: TokenCounter, max_tokens: int) -> int:
    header = f"{meta.title} — {SECTION_SEPARATOR.join(block.section)}"
    return max(MIN_BODY_TOKENS, max_tokens - count(header))


def _pieces(
    blocks: list[Block], meta: DocumentMeta, count: TokenCounter, max_tokens: int
) -> list[_Piece]:
    pieces: list[_Piece] = []
    offset = 0
    for block in blocks:
        start = offset
        offset += len(block.text) + len(BLOCK_SEPARATOR)
        tokens = count(block.text)
        budget = _body_budget(block, meta, count, max_tokens)
        if tokens <= budget:
            pieces.append(_Piece(block, start, start + len(block.text), tokens))
            continue
        pieces.extend(_sentence_runs(block, start, count, budget))
    return pieces


def _sentence_runs(block: Block, start: int, count: TokenCounter, budget: int) -> list[_Piece]:
    """Cut an over-long block at sentence boundaries into runs that each fit `budget`."""
    runs: list[_Piece] = []
    run_start: int | None = None
    run_end = 0
    run_tokens = 0
    for s, e in _fitting_spans(block.text, count, budget):
        tokens = count(block.text[s:e])
        if run_start is not None and run_tokens + tokens > budget:
            runs.append(_Piece(block, start + run_start, start + run_end, run_tokens))
            run_start = None
        if run_start is None:
            run_start, run_tokens = s, 0
        run_end = e
        run_tokens += tokens
    if run_start is not None:
        runs.append(_Piece(block, start + run_start, start + run_end, run_tokens))
    return runs


def _fitting_spans(text: str, count: TokenCounter, budget: int) -> list[tuple[int, int]]:
    """Sentence spans, with any sentence longer than `budget` (a table row run together, a
    list without full stops) cut further at word boundaries."""
    spans: list[tuple[int, int]] = []
    for s, e in sentence_spans(text):
        if count(text[s:e]) <= budget:
            spans.append((s, e))
            continue
        words = [(m.start() + s, m.end() + s) for m in re.finditer(r"\S+", text[s:e])]
        # Word-pieces per word vary; cut by a conservative share of the budget, then check.
        step = max(8, int(budget / 2.0))
        for i in range(0, len(words), step):
            piece = words[i : i + step]
            spans.append((piece[0][0], piece[-1][1]))
    return spans
