from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response

from ..deps import ServicesDep
from ..themes.export import to_csv, to_markdown
from ..themes.scan import ThemeScanner
from ..themes.schemas import ThemeRequest, ThemeResponse

router = APIRouter(tags=["themes"])


def get_theme_scanner(request: Request, services: ServicesDep) -> ThemeScanner:
    # One scanner per app: it keeps the paragraph index and term vectors between requests.
    scanner: ThemeScanner | None = getattr(request.app.state, "theme_scanner", None)
    if scanner is None or scanner.index is not services.index:
        scanner = ThemeScanner(services.index)
        request.app.state.theme_scanner = scanner
    return scanner


ScannerDep = Annotated[ThemeScanner, Depends(get_theme_scanner)]


@router.post(
    "/themes",
    response_model=ThemeResponse,
    responses={200: {"content": {"text/markdown": {}, "text/csv": {}}}},
)
def themes(
    request: ThemeRequest, services: ServicesDep, scanner: ScannerDep
) -> Response | ThemeResponse:
    """Every place in the papers that mentions the theme or a close synonym (not a top k):
    documents by date, places in reading order, each with its kind, quote and paragraph."""
    scan = scanner.scan(
        request.theme, filters=request.filters.to_search_filters(), kinds=request.kinds or None
    )
    response = ThemeResponse.of(scan, services.index)
    if request.format == "md":
        return PlainTextResponse(to_markdown(response), media_type="text/markdown")
    if request.format == "csv":
        return PlainTextResponse(to_csv(response), media_type="text/csv")
    return response
