"""Each HTTP request measured once, outside everything else (so the access guard's 401 and
429 and the body limit's 413 count too): its route's template, status and duration go to the
metrics and to one access log line.

The route is labelled by its template ("/documents/{doc_id}"), never the raw path, so a
document id or a mistyped URL makes no new series; a path no route matches is "unmatched".
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.response_status import ResponseStatus
from service.observability.metrics import Metrics

ACCESS_LOGGER = "boardpapers.access"
UNMATCHED = "unmatched"

access_log = logging.getLogger(ACCESS_LOGGER)


class RequestObserver:
    """Pure ASGI middleware: a streamed answer is measured until its last event is sent."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._templates: list[tuple[re.Pattern[str], str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        arrived = dict(scope)  # as it came: routing into a mounted app rewrites its path

        sent = ResponseStatus(send)
        try:
            await self.app(scope, receive, sent)
        finally:
            seconds = time.perf_counter() - started
            route = self.route_template(scope.get("route"), arrived)
            status = sent.code
            self.metrics.observe_request(scope["method"], route, status, seconds)
            client = scope.get("client")
            access_log.info(
                '%s - "%s %s" %d %.0f ms',
                f"{client[0]}:{client[1]}" if client else "-",
                scope["method"],
                scope["path"],
                status,
                seconds * 1000,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                    "client": client[0] if client else None,
                },
            )

    def route_template(self, route: Any, arrived: Scope) -> str:
        """The template of the route that answered (FastAPI's routes say which); else of the
        one whose paths hold the request's, as it `arrived`: a mounted app's (the static files),
        or the route of a request turned away before routing (no key, too large)."""
        template = getattr(route, "path_format", None)
        if template is not None:
            return str(template)
        if self._templates is None:
            self._templates = _templates_of(arrived["app"])
        path = arrived["path"].removeprefix(arrived.get("root_path", "")) or "/"
        for pattern, template in self._templates:
            if pattern.match(path):
                return template
        return UNMATCHED


def _templates_of(app: Any) -> list[tuple[re.Pattern[str], str]]:
    """Each route's template and the pattern of the paths it serves: the API's routes as its
    OpenAPI schema names them, and the mounted apps (the static files)."""
    known = [(compile_path(path)[0], path) for path in app.openapi().get("paths", {})]
    mounts = [route for route in app.routes if isinstance(route, Mount)]
    return known + [(mount.path_regex, mount.path_format) for mount in mounts]
