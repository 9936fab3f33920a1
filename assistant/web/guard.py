"""The gate in front of every ``/api`` request: the bearer token, then the body size.

A plain ASGI middleware, so it runs before routing (an unauthenticated client learns nothing about
the endpoints) and before FastAPI reads a JSON body (an oversized body is never parsed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from assistant.web.auth import bearer_matches
from assistant.web.errors import error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNAUTHORIZED_HINT = (
    "send the header `Authorization: Bearer <token>`; `assistant serve --show-token` prints the token"
)


class ApiGuard:
    def __init__(self, app: ASGIApp, *, token: str, max_body_bytes: int) -> None:
        self.app = app
        self.token = token
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.datastructures import Headers
        from starlette.responses import JSONResponse

        headers = Headers(scope=scope)
        if not bearer_matches(headers.get("authorization"), self.token):
            body = error_body("missing or wrong API token", UNAUTHORIZED_HINT)
            response = JSONResponse(body, 401, {"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        declared = headers.get("content-length")
        too_big = declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes)
        messages = [] if too_big else await self._read_body(receive)
        if messages is None or too_big:
            body = error_body(f"request body over {self.max_body_bytes} bytes", "send a smaller request")
            await JSONResponse(body, 413)(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _read_body(self, receive: Receive) -> list[Message] | None:
        """The request's body messages, or None once they add up to more than the limit."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return None
            if not message.get("more_body", False):
                return messages
