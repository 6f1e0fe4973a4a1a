"""`GET /docs`: the API's Swagger UI, its script and style served from the package
(`web/docs/`, mounted under /static/docs/) rather than a CDN, so it works offline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

ASSETS = "/static/docs"


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    # Behind a proxy that serves the app under a prefix, every URL the page loads carries it.
    prefix = request.scope.get("root_path", "").rstrip("/")
    openapi_url = request.app.openapi_url or "/openapi.json"
    return get_swagger_ui_html(
        openapi_url=prefix + openapi_url,
        title=f"{request.app.title} — API",
        swagger_js_url=f"{prefix}{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{prefix}{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{prefix}{ASSETS}/favicon-32x32.png",
        oauth2_redirect_url=None,  # the API takes bearer keys; no OAuth2 flow returns here
    )
