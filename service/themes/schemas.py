"""Request and response bodies of `POST /themes`, and the conversion from a `ThemeScan`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from ingest.store.index import PaperIndex
from service.api.schemas import DocumentOut, Filters, file_url
from service.citations import QuotePages
from service.input_text import readable
from service.themes.kinds import PlaceKind
from service.themes.scan import Place, ThemeScan


class ThemeRequest(BaseModel):
    theme: str = Field(
        min_length=1, max_length=500, description="A theme, or a question about one."
    )
    filters: Filters = Field(default_factory=lambda: Filters.model_validate({}))
    format: Literal["json", "md", "csv"] = Field("json", description="Response format.")
    kinds: list[PlaceKind] = Field(
        default_factory=list, description="Only places of these kinds (empty: every kind)."
    )

    @field_validator("theme")
    @classmethod
    def _readable(cls, value: str) -> str:
        return readable(value, "theme")


class PlaceOut(BaseModel):
    page: int
    section: str
    paragraph: str | None
    kind: PlaceKind
    quote: str = Field(description="The sentence(s) that mention the theme.")
    text: str = Field(description="The whole paragraph.")
    url: str


class DocumentPlaces(BaseModel):
    document: DocumentOut
    count: int
    places: list[PlaceOut]


class ThemeResponse(BaseModel):
    theme: str
    terms: list[str] = Field(description="The terms searched for: the theme's and expansions.")
    kinds_asked: list[PlaceKind] = Field(
        default_factory=list, description="Kinds the theme's wording asks for; listed first."
    )
    documents: list[DocumentPlaces]

    @classmethod
    def of(cls, scan: ThemeScan, index: PaperIndex) -> ThemeResponse:
        by_doc: dict[str, list[Place]] = {}
        for place in scan.places:
            by_doc.setdefault(place.paragraph.chunk.doc_id, []).append(place)
        documents = []
        pages_of = QuotePages(index.manifest.page_texts)
        for places in by_doc.values():
            preferred = [p for p in places if p.kind in scan.kinds_asked]
            ordered = preferred + [p for p in places if p.kind not in scan.kinds_asked]
            documents.append(
                DocumentPlaces(
                    document=DocumentOut.of(places[0].paragraph.chunk.meta),
                    count=len(places),
                    places=[_place_out(p, pages_of) for p in ordered],
                )
            )
        documents.sort(key=lambda d: (d.document.date or "9999", d.document.id))
        return cls(
            theme=scan.theme,
            terms=[t.text for t in scan.terms],
            kinds_asked=scan.kinds_asked,
            documents=documents,
        )


def _place_out(place: Place, pages_of: QuotePages) -> PlaceOut:
    paragraph = place.paragraph
    chunk = paragraph.chunk
    page, _ = pages_of(paragraph.text, chunk)
    return PlaceOut(
        page=page,
        section=chunk.section,
        paragraph=paragraph.number,
        kind=place.kind,
        quote=place.quote,
        text=paragraph.text,
        url=file_url(chunk.doc_id, page),
    )
