"""The one error -> status table and the Conduit error envelope `{"errors": {field: [msg]}}`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from loguru import logger
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.auth.errors import OAuthError
from core.shared.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
)

# Conduit reports conflicts (a taken username) with its generic 422; change it here only.
STATUS_BY_CATEGORY: tuple[tuple[type[DomainError], int], ...] = (
    (NotAuthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (RateLimited, 429),
    (Conflict, 422),
    (InvalidInput, 422),
)


class ErrorResponse(BaseModel):
    """Every error: field name (or `body` for the request as a whole) to messages."""

    errors: dict[str, list[str]] = Field(
        examples=[{"body": ["article not found"]}, {"email": ["has already been taken"]}]
    )


def error_body(field: str, *messages: str) -> dict[str, Any]:
    return {"errors": {field: list(messages)}}


def status_for(error: DomainError) -> int:
    for category, status in STATUS_BY_CATEGORY:
        if isinstance(error, category):
            return status
    return 400


async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if isinstance(exc, OAuthError):
        # The token endpoint speaks RFC 6749, not the Conduit envelope.
        return JSONResponse(
            {"error": exc.code, "error_description": exc.message},
            status_code=401 if exc.code == "invalid_client" else 400,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )
    status = status_for(exc)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Token"
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after_s)
    logger.info("{} {} -> {} ({})", request.method, request.url.path, status, type(exc).__name__)
    return JSONResponse(error_body(exc.field, exc.message), status_code=status, headers=headers)


def _field_of(loc: tuple[Any, ...]) -> str:
    # ("body", "article", "title") -> "title"; ("query", "limit") -> "limit";
    # ("body",) (missing or unparsable body) -> "body".
    names = [str(part) for part in loc if not isinstance(part, int)]
    if len(names) <= 1:
        return "body"
    if names[0] == "body" and len(names) == 2:
        return names[1] if names[1] not in {"user", "article", "comment"} else "body"
    return names[-1]


def _message_of(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "can't be blank"
    if kind == "json_invalid":
        return "is not valid JSON"
    if kind == "string_too_long":
        return f"is too long (maximum is {ctx.get('max_length')} characters)"
    if kind == "string_too_short":
        return "can't be blank" if ctx.get("min_length") == 1 else str(error["msg"]).lower()
    return str(error.get("msg", "is invalid"))


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        field = _field_of(tuple(error.get("loc", ())))
        message = _message_of(error)
        if message not in errors.setdefault(field, []):
            errors[field].append(message)
    return JSONResponse({"errors": errors}, status_code=422)


async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = {404: "not found", 405: "method not allowed"}.get(exc.status_code, str(exc.detail))
    return JSONResponse(
        error_body("body", message), status_code=exc.status_code, headers=exc.headers
    )


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.opt(exception=exc).error("unhandled error on {} {}", request.method, request.url.path)
    return JSONResponse(error_body("body", "internal server error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(Exception, on_unexpected)


# For route decorators: the error responses an operation may give, in the one shape.
def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        401: "Missing, invalid or expired token",
        403: "Not allowed for this user",
        404: "No such resource",
        422: "Invalid input",
        429: "Too many attempts; see Retry-After",
    }
    return {s: {"model": ErrorResponse, "description": descriptions[s]} for s in statuses}
