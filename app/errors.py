"""Errors the API shows, the one handler that renders them as {"error", "detail"}, and the model
the OpenAPI document declares for them (ErrorBody, on every operation's 4XX and 5XX answers)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.inputs import without_lone_surrogates


class AppError(Exception):
    """An error with an HTTP status and a message meant for the caller."""

    status_code = 400
    error = "bad request"

    def __init__(self, detail: Any = None, *, status_code: int | None = None, error: str | None = None):
        super().__init__(detail)
        self.detail = detail
        if status_code is not None:
            self.status_code = status_code
        if error is not None:
            self.error = error


class NotFound(AppError):
    status_code = 404
    error = "not found"


class Conflict(AppError):
    status_code = 409
    error = "conflict"


class Forbidden(AppError):
    status_code = 403
    error = "forbidden"


class Unauthorized(AppError):
    status_code = 401
    error = "unauthorized"


class Invalid(AppError):
    status_code = 422
    error = "invalid"


class ErrorResponse(JSONResponse):
    """JSON that can always be sent: an error may quote what the caller sent (a field name in a
    `loc`), and a lone surrogate there cannot be encoded; it is shown as U+FFFD instead."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return without_lone_surrogates(text).encode("utf-8")


def _json(status: int, error: str, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return ErrorResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


class Problem(BaseModel):
    """One thing wrong with a request: where (`loc`, e.g. ["body", "limits", "timezone"]), what, and its kind."""

    loc: list[str | int] = Field(description="where: body, query or path, then the field names and list indexes")
    msg: str = Field(description="what is wrong, for people")
    type: str = Field(description="the kind of problem, e.g. missing, string_too_long, value_error")


class FieldFault(BaseModel):
    """A value the service refused: the field, why, and for a query the position of the fault."""

    model_config = ConfigDict(extra="allow")

    field: str = Field(description="the field refused: query, scope, or a key of an account's config")
    message: str = Field(description="why, for people")
    position: int | None = Field(default=None, description="for a query: the character offset of the fault")


class ErrorBody(BaseModel):
    """Every error answer: a short `error` and its `detail`."""

    error: str = Field(description="what went wrong: not found, invalid request, invalid query, unauthorized...")
    detail: str | list[Problem] | FieldFault | list[FieldFault] | None = Field(
        description="a sentence; for `invalid request` the problems (loc, msg, type); for a refused value its field")


# Declared on every operation (app/main.py), in place of FastAPI's validation-error array.
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
JSON_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"content": _ERROR_CONTENT, "description": "The request cannot be served: see `error` and `detail`."},
    "5XX": {"content": _ERROR_CONTENT, "description": "A platform or the database is unavailable (502, 503)."},
}
# With the model, FastAPI puts ErrorBody in the components; without it (routes that answer text,
# /metrics) the errors are still declared JSON, which they are.
ERROR_RESPONSES = {code: {**response, "model": ErrorBody} for code, response in JSON_ERRORS.items()}

# The statuses an operation names besides the ranges above, each with what it means there.
_MEANING = {
    401: "No token, or an unknown or revoked one: send `Authorization: Bearer <token>`.",
    403: "The token's role may not do this (a moderator changing configuration, a non-admin an admin's task).",
    404: "Nothing with that id, or it is on an account the token does not reach.",
    409: "It clashes with what exists: already there, or the action's status does not allow the move.",
    422: "The request does not fit: `detail` lists the problems (loc, msg, type) or names the refused field.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses, each answering ErrorBody."""
    return {code: {"model": ErrorBody, "description": _MEANING[code]} for code in codes}


# How the dashboard shows an error: whether a request is one of its pages, and the page for it.
PageError = tuple[Callable[[Request], bool], Callable[[Request, int, str, Any], Response]]


def install_handlers(app: FastAPI, *, pages: PageError | None = None) -> None:
    """Render every error the API can raise in the one JSON shape; a dashboard page's as a page."""

    def answer(request: Request, status: int, error: str, detail: Any,
               headers: dict[str, str] | None = None) -> Response:
        if pages is not None and pages[0](request):
            response = pages[1](request, status, error, detail)
            for name, value in (headers or {}).items():
                if name != "WWW-Authenticate":
                    response.headers[name] = value
            return response
        return _json(status, error, detail, headers)

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if retry := getattr(exc, "retry_after", None):
            headers = {**(headers or {}), "Retry-After": str(retry)}
        return answer(request, exc.status_code, exc.error, exc.detail, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return answer(request, 422, "invalid request", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return answer(request, exc.status_code, _reason(exc.status_code), exc.detail)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # A bug, not the caller's fault: still the declared JSON shape (not Starlette's plain text);
        # Starlette re-raises the exception after this answer, so the server logs its traceback.
        return answer(request, 500, "internal error", "an unexpected error; the server logged it")


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"
