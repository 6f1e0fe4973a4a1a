from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from service.api.access import CallerDep, ReadDep, filters_asked
from service.api.deps import ScannerDep, ServicesDep, TextLimitsDep, WorkSlot, refuse_if_too_long
from service.exports.media import MEDIA_TYPES, download, file_name
from service.observability.metrics import MetricsDep
from service.themes.export import to_csv, to_docx, to_markdown
from service.themes.schemas import ThemeRequest, ThemeResponse

router = APIRouter(tags=["themes"])

ThemeFormat = Literal["json", "md", "csv", "docx"]
FormatQuery = Annotated[
    ThemeFormat | None,
    Query(
        description="json, md (each row links to its page), csv or docx (a Word evidence"
        " table); overrides the body's `format`."
    ),
]


@router.post(
    "/themes",
    response_model=ThemeResponse,
    responses={200: {"content": {MEDIA_TYPES[f]: {} for f in ("md", "csv", "docx")}}},
    dependencies=[WorkSlot],
)
def themes(
    request: ThemeRequest,
    http: Request,
    services: ServicesDep,
    scanner: ScannerDep,
    limits: TextLimitsDep,
    caller: CallerDep,
    read: ReadDep,
    metrics: MetricsDep,
    format: FormatQuery = None,
) -> Response | ThemeResponse:
    """Every place in the papers that mentions the theme or a close synonym (not a top k):
    documents by date, places in reading order, each with its kind, quote and paragraph."""
    refuse_if_too_long(limits, "theme", request.theme)
    filters = request.filters.to_search_filters()
    read.asked, read.filters = request.theme, filters_asked(filters)
    with metrics.retrieval("/themes"):
        scan = scanner.scan(
            request.theme, filters=caller.narrow(filters), kinds=request.kinds or None
        )
    read.saw_chunks(place.paragraph.chunk for place in scan.places)
    response = ThemeResponse.of(scan, services.index)
    chosen = format or request.format
    base_url = str(http.base_url)  # links in a file opened elsewhere must be absolute
    content: str | bytes
    match chosen:
        case "json":
            return response
        case "md":
            content = to_markdown(response, base_url)
        case "csv":
            content = to_csv(response)
        case "docx":
            content = to_docx(response, base_url)
    return download(content, chosen, file_name("theme", request.theme, chosen))
