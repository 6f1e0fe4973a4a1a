"""Limits on reading a request body: its size, and the time it takes to arrive.

No request of the API needs more than a few kilobytes, and a 200 MB body would otherwise be read
whole into memory before anything looks at it. A body announced larger than the cap
(`Content-Length`) is refused before it is read; one sent without a length (chunked) is refused
as soon as what arrived passes the cap. Either way the client gets 413 with what to do.

uvicorn waits for a body as long as the client keeps the connection open, so a body shorter
than its `Content-Length` (or one trickled a byte at a time) would hold a connection open for
ever. The whole body must arrive within `read_timeout` seconds of the headers; past that the
client gets 408.

A response sent before the whole body arrived (413, 408) closes the connection: the rest of the
body is never read, so the connection cannot carry another request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_CLOSE = (b"connection", b"close")


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, read_timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        announced = headers.get(b"content-length", b"").decode("latin-1")
        if announced.isdigit() and int(announced) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        expects_body = (announced.isdigit() and int(announced) > 0) or (
            b"transfer-encoding" in headers
        )
        body_done = not expects_body
        deadline = asyncio.get_running_loop().time() + self.read_timeout

        async def counted() -> Message:
            nonlocal received, body_done
            if body_done:  # after the body, the app waits here for a disconnect: no limit
                return await receive()
            left = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(left, 0.0))
            except TimeoutError:
                # FastAPI reads the body inside the route and answers this as it is
                raise HTTPException(408, self._late()) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, self._detail())
                body_done = not message.get("more_body", False)
            else:  # the client went away
                body_done = True
            return message

        async def closing_early(message: Message) -> None:
            if message["type"] == "http.response.start" and not body_done:
                message["headers"] = [*message.get("headers", []), _CLOSE]
            await send(message)

        await self.app(scope, counted, closing_early)

    def _detail(self) -> str:
        return (
            f"The request body is larger than {self.max_bytes:,} bytes: send a shorter question,"
            " or raise BOARDPAPERS_MAX_REQUEST_BYTES."
        )

    def _late(self) -> str:
        return (
            f"The request body did not arrive within {self.read_timeout:g} seconds: send it"
            " whole, with a Content-Length that matches it, or raise"
            " BOARDPAPERS_READ_TIMEOUT_SECONDS for a slow link."
        )

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": self._detail()}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    _CLOSE,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
