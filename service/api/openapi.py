"""The API's OpenAPI schema, saying how a key is sent: /docs then offers "Authorize", and its
"Try it out" works on a service that has keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

BEARER_SCHEME = "apiKey"


def with_key_scheme(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """`app.openapi` that adds the bearer key scheme to FastAPI's own schema, made once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                BEARER_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A key from `boardpapers keys create` (none while the"
                    " service has no keys: the local demo).",
                }
            }
            # a key, or none at all on a service that has made none
            schema["security"] = [{BEARER_SCHEME: []}, {}]
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi
