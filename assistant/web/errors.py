"""Errors over HTTP: one shape, ``{"error": message, "hint": fix}``, and a status per error kind.

:func:`status_for` maps the assistant's error tree (``assistant/errors.py``) to status codes;
:func:`install_handlers` makes a FastAPI app answer every error (its own, a malformed request, an
unknown path, a crash) in that shape.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from assistant.errors import (
    AirflowAuthError,
    AirflowError,
    AirflowUnavailable,
    AssistantError,
    ConfigError,
    DagNotFound,
    GitError,
    NotAvailable,
    RepoNotFound,
    RetrievalError,
    RunNotFound,
    RunTimeout,
    UsageError,
    ValidationFailed,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

_log = logging.getLogger("assistant.web")


class UnknownSession(AssistantError):
    """A chat session id the server does not hold (expired, evicted, or from before a restart)."""


class SessionBusy(AssistantError):
    """The chat session is still answering an earlier message."""


# Most specific first: the first class the error is an instance of decides.
_STATUS: Sequence[tuple[type[AssistantError], int]] = (
    (UsageError, 400),
    (DagNotFound, 404),
    (RunNotFound, 404),
    (RepoNotFound, 404),
    (UnknownSession, 404),
    (SessionBusy, 409),
    (ValidationFailed, 422),
    (AirflowUnavailable, 503),
    (AirflowAuthError, 502),  # the assistant's own Airflow credentials were refused
    (RunTimeout, 504),
    (AirflowError, 502),
    (GitError, 502),
    (RetrievalError, 503),
    (NotAvailable, 503),
    (ConfigError, 500),
)


def status_for(exc: AssistantError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def error_body(message: str, hint: str = "", **extra: Any) -> dict[str, Any]:
    return {"error": message, "hint": hint, **extra}


def body_for(exc: AssistantError) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if isinstance(exc, DagNotFound):
        extra["close_matches"] = exc.close_matches
    return error_body(exc.message, exc.hint, **extra)


def install_handlers(app: Any) -> None:
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    async def assistant_error(_request: Any, exc: AssistantError) -> JSONResponse:
        return JSONResponse(body_for(exc), status_for(exc))

    async def bad_request(_request: Any, exc: RequestValidationError) -> JSONResponse:
        problems = [_describe(e) for e in exc.errors()[:5]]
        return JSONResponse(
            error_body("bad request: " + "; ".join(problems), "see /api/v1/openapi.json for the shapes"),
            400,
        )

    async def http_error(_request: Any, exc: HTTPException) -> JSONResponse:
        hints = {404: "see /api/v1/openapi.json for the endpoints", 405: "check the HTTP method"}
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return JSONResponse(
            error_body(message.lower(), hints.get(exc.status_code, "")), exc.status_code, exc.headers
        )

    async def crash(_request: Any, exc: Exception) -> JSONResponse:
        _log.error("internal error: %s", type(exc).__name__, exc_info=exc)
        return JSONResponse(error_body("internal error", "see the log of `assistant serve`"), 500)

    app.add_exception_handler(AssistantError, assistant_error)
    app.add_exception_handler(RequestValidationError, bad_request)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, crash)


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
    return f"{where}: {error.get('msg', 'invalid')}"
