from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from service.api.access import CallerDep, ReadDep, filters_asked
from service.api.deps import ScannerDep, ServicesDep, TextLimitsDep, WorkSlot, refuse_if_too_long
from service.themes.export import to_csv, to_markdown
from service.themes.schemas import ThemeRequest, ThemeResponse

router = APIRouter(tags=["themes"])


@router.post(
    "/themes",
    response_model=ThemeResponse,
    responses={200: {"content": {"text/markdown": {}, "text/csv": {}}}},
    dependencies=[WorkSlot],
)
def themes(
    request: ThemeRequest,
    services: ServicesDep,
    scanner: ScannerDep,
    limits: TextLimitsDep,
    caller: CallerDep,
    read: ReadDep,
) -> Response | ThemeResponse:
    """Every place in the papers that mentions the theme or a close synonym (not a top k):
    documents by date, places in reading order, each with its kind, quote and paragraph."""
    refuse_if_too_long(limits, "theme", request.theme)
    filters = request.filters.to_search_filters()
    read.asked, read.filters = request.theme, filters_asked(filters)
    scan = scanner.scan(request.theme, filters=caller.narrow(filters), kinds=request.kinds or None)
    read.saw_chunks(place.paragraph.chunk for place in scan.places)
    response = ThemeResponse.of(scan, services.index)
    if request.format == "md":
        return PlainTextResponse(to_markdown(response), media_type="text/markdown")
    if request.format == "csv":
        return PlainTextResponse(to_csv(response), media_type="text/csv")
    return response
