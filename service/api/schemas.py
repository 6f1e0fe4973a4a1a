"""HTTP request and response bodies (pydantic), and the conversions from domain records."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator

from ingest.models import Chunk, DocumentMeta
from ingest.store.index import SearchFilters
from ingest.store.manifest import StoredDocument
from service.answers import AnswerResult, Citation
from service.input_text import readable
from service.retrieval.hits import Hit


class Filters(BaseModel):
    documents: list[str] = Field(default_factory=list, description="Document ids to search.")
    bodies: list[str] = Field(default_factory=list, description="Publishing bodies to search.")
    doc_types: list[str] = Field(default_factory=list, description="Document types to search.")
    date_from: date | None = Field(None, description="Earliest paper date (inclusive).")
    date_to: date | None = Field(None, description="Latest paper date (inclusive).")

    def to_search_filters(self) -> SearchFilters:
        return SearchFilters(
            documents=tuple(self.documents),
            bodies=tuple(self.bodies),
            doc_types=tuple(self.doc_types),
            date_from=self.date_from.isoformat() if self.date_from else None,
            date_to=self.date_to.isoformat() if self.date_to else None,
        )


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(5, ge=1, le=50)
    filters: Filters = Field(default_factory=Filters)
    neighbours: int = Field(
        0,
        ge=0,
        le=3,
        description="Chunks before and after each result to return with it, for a fact that "
        "runs over a chunk boundary.",
    )

    @field_validator("query")
    @classmethod
    def _readable(cls, value: str) -> str:
        return readable(value, "query")


class AskRequest(BaseModel):
    question: str = Field(
        min_length=1,
        max_length=2000,
        description="At most BOARDPAPERS_MAX_QUESTION_CHARS characters (1,000 unless set).",
    )
    k: int = Field(6, ge=1, le=50, description="Passages retrieved for the answer.")
    filters: Filters = Field(default_factory=Filters)
    conversation_id: str | None = Field(
        None, description="Continue this conversation (a follow-up is read against its turns)."
    )

    @field_validator("question")
    @classmethod
    def _readable(cls, value: str) -> str:
        return readable(value, "question")


class DocumentOut(BaseModel):
    id: str
    title: str
    body: str
    date: str | None
    source: str = Field(description="The original file name.")
    doc_type: str
    access: str

    @classmethod
    def of(cls, meta: DocumentMeta) -> DocumentOut:
        return cls(
            id=meta.doc_id, title=meta.title, body=meta.body, date=meta.date,
            source=meta.source, doc_type=meta.doc_type, access=meta.access,
        )  # fmt: skip


class DocumentDetail(DocumentOut):
    version: str = Field(
        description="The document version: a SHA-256 of the ingested file's bytes and the"
        " reading rules that made its chunks; it changes when either does."
    )
    pages: int
    chunks: int
    ingested_at: str
    url: str

    @classmethod
    def of_stored(cls, stored: StoredDocument) -> DocumentDetail:
        return cls(
            **DocumentOut.of(stored.meta).model_dump(),
            version=stored.version, pages=stored.pages, chunks=stored.chunk_count,
            ingested_at=stored.ingested_at, url=file_url(stored.meta.doc_id),
        )  # fmt: skip


def file_url(doc_id: str, page: int | None = None) -> str:
    url = f"/documents/{doc_id}/file"
    return f"{url}#page={page}" if page else url


class NeighbourOut(BaseModel):
    chunk_id: str
    position: int = Field(description="Chunks away from the result: -1 just before, 1 just after.")
    text: str
    page: int
    page_end: int


class RepeatOut(BaseModel):
    """Where else the passage's text is printed (a report's words again in the minutes)."""

    chunk_id: str
    document: DocumentOut
    page: int
    page_end: int
    url: str

    @classmethod
    def of(cls, chunk: Chunk) -> RepeatOut:
        return cls(
            chunk_id=chunk.chunk_id, document=DocumentOut.of(chunk.meta), page=chunk.page,
            page_end=chunk.page_end, url=file_url(chunk.doc_id, chunk.page),
        )  # fmt: skip


class SearchResult(BaseModel):
    chunk_id: str = Field(description="The chunk that ranked; `chunk_ids` lists the passage's.")
    chunk_ids: list[str] = Field(
        description="Every chunk of the passage in reading order: adjacent chunks that both "
        "ranked are one passage."
    )
    text: str
    score: float
    page: int
    page_end: int
    section: str
    paragraph: str | None
    kind: str
    url: str
    document: DocumentOut
    neighbours: list[NeighbourOut] = Field(default_factory=list)
    repeats: list[RepeatOut] = Field(
        default_factory=list,
        description="Other places printing the same text, which ranked too but are not "
        "shown again as results of their own.",
    )

    @classmethod
    def of(cls, hit: Hit, neighbours: list[Chunk] | None = None) -> SearchResult:
        chunks = hit.chunks
        first, last = chunks[0], chunks[-1]
        inside = {chunk.chunk_id for chunk in chunks}
        around = [
            NeighbourOut(
                chunk_id=n.chunk_id,
                position=n.ordinal - (first.ordinal if n.ordinal < first.ordinal else last.ordinal),
                text=n.text, page=n.page, page_end=n.page_end,
            )
            for n in neighbours or []
            if n.chunk_id not in inside
        ]  # fmt: skip
        return cls(
            chunk_id=hit.chunk.chunk_id, chunk_ids=[chunk.chunk_id for chunk in chunks],
            text=hit.text, score=round(hit.score, 6), page=first.page, page_end=last.page_end,
            section=first.section, paragraph=first.paragraph, kind=first.kind,
            url=file_url(first.doc_id, first.page), document=DocumentOut.of(first.meta),
            neighbours=around, repeats=[RepeatOut.of(chunk) for chunk in hit.repeats],
        )  # fmt: skip


class SearchResponse(BaseModel):
    results: list[SearchResult]


class CitationOut(BaseModel):
    n: int
    quote: str
    page: int
    page_end: int
    paragraph: str | None
    section: str
    chunk_id: str
    url: str
    verified: bool
    ocr: bool = Field(
        False,
        description="The quoted passage was read by OCR from a scanned page: its words are "
        "the OCR's reading, so check the page itself (`url`) before relying on a figure.",
    )
    document: DocumentOut

    @classmethod
    def of(cls, citation: Citation) -> CitationOut:
        chunk = citation.chunk
        return cls(
            n=citation.n, quote=citation.quote, page=citation.page, page_end=citation.page_end,
            paragraph=chunk.paragraph, section=chunk.section, chunk_id=chunk.chunk_id,
            url=file_url(chunk.doc_id, citation.page), verified=citation.verified,
            ocr=chunk.ocr, document=DocumentOut.of(chunk.meta),
        )  # fmt: skip


class AskResponse(BaseModel):
    answer: str
    answered: bool
    mode: str
    citations: list[CitationOut]
    items: list[str] = Field(
        default_factory=list,
        description="The entries of a list answer, each with its [n] markers; empty for a "
        'prose answer. `answer` then holds the lead sentence followed by these as "\\n- " '
        "lines.",
    )
    warnings: list[str] = Field(default_factory=list)
    question: str | None = Field(None, description="The question as asked.")
    rewritten_question: str | None = Field(
        None, description="The standalone question searched: a follow-up read against the history."
    )
    conversation_id: str | None = Field(None, description="Send it back to ask a follow-up.")

    @classmethod
    def of(cls, result: AnswerResult) -> AskResponse:
        return cls(
            answer=result.answer, answered=result.answered, mode=result.mode,
            citations=[CitationOut.of(c) for c in result.citations], items=result.items,
            warnings=result.warnings,
        )  # fmt: skip


class Health(BaseModel):
    status: str = Field(description='"ok", or "degraded" (with 503) when a part does not answer')
    checks: dict[str, str] = Field(
        default_factory=dict, description='Each part checked ("index", "llm"): "ok" or its fault'
    )
    documents: int | None = Field(None, description="Live papers; shown to an admin key only.")
    chunks: int | None = Field(None, description="Live passages; shown to an admin key only.")
    answerer: str
