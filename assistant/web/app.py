"""The FastAPI application: ``POST /webhooks/github``, ``POST /webhooks/gitlab``, ``GET /healthz``,
and, given the assistant and an API token, the web chat at ``GET /`` and the REST API under
``/api/v1`` (see :mod:`assistant.web.api`).

FastAPI is imported inside :func:`create_app`, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.gitops.daemon import GitOpsDaemon
    from assistant.service import Assistant

MAX_BODY_BYTES = 1024 * 1024


def create_app(
    daemon: GitOpsDaemon,
    *,
    assistant: Assistant | None = None,
    api_token: str | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Any:
    """The webhooks and health check; with ``assistant`` and ``api_token``, the API and web chat too."""
    from fastapi import FastAPI, Request
    from fastapi.responses import HTMLResponse, JSONResponse

    app = FastAPI(title="assistant", docs_url=None, redoc_url=None, openapi_url=None)

    async def read_limited(request: Request) -> bytes | None:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_body_bytes):
            return None
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > max_body_bytes:
                return None
        return bytes(body)

    async def receive(provider: str, request: Request) -> JSONResponse:
        body = await read_limited(request)
        if body is None:
            return JSONResponse(
                {"outcome": "rejected", "detail": f"payload over {max_body_bytes} bytes"}, 413
            )
        result = daemon.webhooks.handle(provider, dict(request.headers), body)  # type: ignore[arg-type]
        payload = {"outcome": result.outcome, "detail": result.detail}
        if result.repo and result.status == 202:
            payload["repo"] = result.repo
        return JSONResponse(payload, result.status)

    # Plain Starlette routes: the endpoints take the request itself, no parameter parsing.
    async def github(request: Request) -> JSONResponse:
        return await receive("github", request)

    async def gitlab(request: Request) -> JSONResponse:
        return await receive("gitlab", request)

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse(
            {"ok": True, "pending": sorted(daemon.queue.pending()), "polling": daemon.polling}
        )

    app.add_route("/webhooks/github", github, methods=["POST"])
    app.add_route("/webhooks/gitlab", gitlab, methods=["POST"])
    app.add_route("/healthz", healthz, methods=["GET"])
    if assistant is None:
        return app
    if not api_token:
        raise ValueError("the API needs a token")
    from assistant.web.api import create_api
    from assistant.web.page import page

    async def index(_request: Request) -> HTMLResponse:
        html, headers = page()
        return HTMLResponse(html, headers=headers)

    app.add_route("/", index, methods=["GET"])
    app.mount("/api/v1", create_api(assistant, token=api_token, max_body_bytes=max_body_bytes))
    return app
