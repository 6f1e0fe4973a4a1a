"""The status an ASGI app answers with, read as the response passes: for the middlewares that
record each request after it is served (the audit log, the metrics)."""

from __future__ import annotations

from starlette.types import Message, Send


class ResponseStatus:
    """A `send` that passes every message on and keeps the response's status; 500 until one is
    sent, as the client gets when the app fails before responding."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.code = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.code = message["status"]
        await self._send(message)
