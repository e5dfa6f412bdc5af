"""The one error -> status table and the error envelope every failure is answered with.

    {"errors": {"<field or body>": ["<message>"]}, "code": "<stable code>", "requestId": "<id>"}

`errors` is RealWorld's envelope, unchanged; `code` and `requestId` are extra top-level keys
that RealWorld clients ignore. Invalid JSON syntax is 400 `malformed_json`; JSON that parses
but breaks the schema is RealWorld's 422 `validation_failed`. The token endpoint alone answers
in RFC 6749's `{"error", "error_description"}` shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from loguru import logger
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from core.auth.errors import OAuthError
from core.shared.errors import (
    BadRequest,
    Conflict,
    DomainError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RateLimited,
    Unavailable,
    UpstreamFailed,
    UpstreamTimeout,
)
from core.shared.health import DependenciesUnavailable
from entrypoints.http.routing import DUPLICATE_KEY
from entrypoints.logging import current_request_id, new_request_id


class ErrorCode(StrEnum):
    """Stable machine codes: clients may branch on them; messages may change."""

    BAD_REQUEST = "bad_request"
    MALFORMED_JSON = "malformed_json"
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    PRECONDITION_FAILED = "precondition_failed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    VALIDATION_FAILED = "validation_failed"
    RATE_LIMITED = "rate_limited"
    HEADERS_TOO_LARGE = "headers_too_large"
    CORS_REJECTED = "cors_rejected"
    INTERNAL_ERROR = "internal_error"
    UNAVAILABLE = "unavailable"
    BAD_GATEWAY = "bad_gateway"  # issue 15: an identity provider failed
    GATEWAY_TIMEOUT = "gateway_timeout"


# Domain error category -> (status, code). Conduit reports conflicts (a taken username) with
# its generic 422; switch Conflict to 409 here, and only here, to leave RealWorld's choice.
STATUS_BY_CATEGORY: tuple[tuple[type[DomainError], int, ErrorCode], ...] = (
    (NotAuthenticated, 401, ErrorCode.NOT_AUTHENTICATED),
    (PermissionDenied, 403, ErrorCode.PERMISSION_DENIED),
    (NotFound, 404, ErrorCode.NOT_FOUND),
    (RateLimited, 429, ErrorCode.RATE_LIMITED),
    (Conflict, 422, ErrorCode.CONFLICT),
    (InvalidInput, 422, ErrorCode.VALIDATION_FAILED),
    (Unavailable, 503, ErrorCode.UNAVAILABLE),
    (PreconditionFailed, 412, ErrorCode.PRECONDITION_FAILED),
    # issue 15 (OpenID Connect sign-in)
    (BadRequest, 400, ErrorCode.BAD_REQUEST),
    (UpstreamFailed, 502, ErrorCode.BAD_GATEWAY),
    (UpstreamTimeout, 504, ErrorCode.GATEWAY_TIMEOUT),
)

# Status -> (code, message) for failures the framework, the server or a middleware produce.
BY_STATUS: dict[int, tuple[ErrorCode, str]] = {
    400: (ErrorCode.BAD_REQUEST, "the request could not be understood"),
    401: (ErrorCode.NOT_AUTHENTICATED, "authentication required"),
    403: (ErrorCode.PERMISSION_DENIED, "not allowed"),
    404: (ErrorCode.NOT_FOUND, "not found"),
    405: (ErrorCode.METHOD_NOT_ALLOWED, "method not allowed"),
    409: (ErrorCode.CONFLICT, "conflicts with the current state"),
    412: (ErrorCode.PRECONDITION_FAILED, "precondition failed"),
    413: (ErrorCode.PAYLOAD_TOO_LARGE, "request body is too large"),
    415: (ErrorCode.UNSUPPORTED_MEDIA_TYPE, "send the body as application/json"),
    422: (ErrorCode.VALIDATION_FAILED, "is invalid"),
    429: (ErrorCode.RATE_LIMITED, "too many requests"),
    431: (ErrorCode.HEADERS_TOO_LARGE, "request headers are too large"),
    500: (ErrorCode.INTERNAL_ERROR, "internal server error"),
    503: (ErrorCode.UNAVAILABLE, "service unavailable"),
    502: (ErrorCode.BAD_GATEWAY, "an upstream service failed"),
    504: (ErrorCode.GATEWAY_TIMEOUT, "an upstream service did not answer in time"),
}

DESCRIPTIONS = {
    400: "Malformed request: the body cannot be parsed (`malformed_json`: not valid JSON, "
    "or a key given twice)",
    401: "Missing, invalid or expired credentials (`WWW-Authenticate: Token`)",
    403: "Not allowed for this user",
    404: "No such resource",
    405: "Method not allowed here (see `Allow`)",
    409: "Conflicts with the current state",
    412: "Precondition failed",
    413: "Request body larger than MAX_BODY_BYTES",
    415: "Body sent with a Content-Type other than application/json",
    422: "Invalid input",
    429: "Too many attempts; see Retry-After",
    431: "Request headers too large",
    500: "Unexpected failure; quote the requestId when reporting it",
    503: "A dependency is not answering",
    502: "The identity provider failed or answered something unusable",
    504: "The identity provider did not answer in time",
}


class ErrorResponse(BaseModel):
    """Every error: field name (or `body` for the request as a whole) to messages, a stable
    machine `code`, and the `requestId` that the server's log lines for it carry."""

    model_config = ConfigDict(
        title="ErrorResponse",
        json_schema_extra={
            "examples": [
                {
                    "errors": {"body": ["article not found"]},
                    "code": "not_found",
                    "requestId": "6f1c2a9e0b6d4c1f8e2a7b3d5c9e0f12",
                },
                {
                    "errors": {"email": ["has already been taken"]},
                    "code": "conflict",
                    "requestId": "0d9e8c7b6a5f4e3d2c1b0a9f8e7d6c5b",
                },
            ]
        },
    )

    errors: dict[str, list[str]] = Field(
        description="RealWorld's envelope: field (or `body`) -> messages.",
        examples=[{"body": ["article not found"]}, {"email": ["has already been taken"]}],
    )
    code: ErrorCode = Field(description="Stable machine code; branch on this, not on messages.")
    requestId: str = Field(  # the wire name, as clients read it
        description="Echoes the X-Request-ID response header; every log line of the request "
        "carries it."
    )


def error_body(errors: Mapping[str, list[str]], code: ErrorCode) -> dict[str, Any]:
    return {
        "errors": dict(errors),
        "code": code.value,
        "requestId": current_request_id() or new_request_id(),
    }


def error_response(
    status: int,
    message: str | None = None,
    *,
    field: str = "body",
    code: ErrorCode | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The error schema for `status`; message and code default to the status's own."""
    default_code, default_message = code_for_status(status)
    return JSONResponse(
        error_body({field: [message or default_message]}, code or default_code),
        status_code=status,
        headers=dict(headers or {}),
    )


def code_for_status(status: int) -> tuple[ErrorCode, str]:
    if status in BY_STATUS:
        return BY_STATUS[status]
    return BY_STATUS[500] if status >= 500 else BY_STATUS[400]


def status_for(error: DomainError) -> tuple[int, ErrorCode]:
    for category, status, code in STATUS_BY_CATEGORY:
        if isinstance(error, category):
            return status, code
    return 400, ErrorCode.BAD_REQUEST


async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if isinstance(exc, OAuthError):
        # The token endpoint speaks RFC 6749, not the Conduit envelope.
        return JSONResponse(
            {"error": exc.code, "error_description": exc.message},
            status_code=401 if exc.code == "invalid_client" else 400,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )
    status, code = status_for(exc)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Token"
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after_s)
    if status == 503:  # readiness: probes must not see a cached answer
        headers["Retry-After"] = "5"
        headers["Cache-Control"] = "no-store"
    # Every field the failure carries (several when failures were joined: a username and
    # an email both taken), each with its messages.
    errors = (
        {name: [why] for name, why in exc.failures.items()}
        if isinstance(exc, DependenciesUnavailable)
        else {field: list(messages) for field, messages in exc.errors.items()}
    )
    logger.info("{} {} ({})", status, code.value, type(exc).__name__)
    return JSONResponse(error_body(errors, code), status_code=status, headers=headers)


# Where a body's fields live: {"user": {...}}, {"article": {...}}, {"comment": {...}}.
WRAPPERS = frozenset({"user", "article", "comment"})
# The error type of a core rule run as a schema validator (see schemas/common.py): its
# message is the core's own, carried in the error's context.
CORE_RULE_ERROR = "core_rule"


def _field_of(loc: tuple[Any, ...]) -> str:
    # ("body", "article", "title") -> "title"; ("query", "limit") -> "limit";
    # ("body", "article", "tagList", 3) -> "tagList"; ("body",) or ("body", "user") -> "body".
    names = [str(part) for part in loc if not isinstance(part, int)]
    if len(names) <= 1:
        return "body"
    if names[0] == "body" and len(names) == 2:
        return names[1] if names[1] not in WRAPPERS else "body"
    return names[-1]


# Pydantic's error types in the voice of the core's messages: what follows the field name
# when a client shows "<field> <message>" ("limit must be at most 100", "email is invalid").
# Templates take the error's context (`{max_length}`, `{le}`, `{expected}`...).
_PHRASES: dict[str, str] = {
    "missing": "can't be blank",
    "string_type": "must be a string",
    "string_too_short": "is too short (minimum is {min_length} characters)",
    "string_too_long": "is too long (maximum is {max_length} characters)",
    "too_short": "must have at least {min_length} items",
    "too_long": "has too many items (maximum is {max_length})",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_parsing_size": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "less_than_equal": "must be at most {le}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "greater_than": "must be greater than {gt}",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "uuid_type": "must be a UUID",
    "uuid_parsing": "must be a UUID",
    "uuid_version": "must be a UUID",
    "enum": "must be one of {expected}",
    "literal_error": "must be one of {expected}",
    "extra_forbidden": "is not allowed",
}
INVALID = "is invalid"


def _phrase(kind: str, ctx: Mapping[str, Any]) -> str:
    if kind == CORE_RULE_ERROR:
        return str(ctx.get("message") or INVALID)  # the core's own words
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "can't be blank"
    if kind == "too_short" and ctx.get("min_length") == 1:
        return "must have at least 1 item"
    try:
        return _PHRASES.get(kind, INVALID).format_map(ctx)
    except (KeyError, IndexError, ValueError):
        return INVALID


def _message_of(error: Mapping[str, Any]) -> str:
    """The message of one Pydantic error, phrased like the core's: lower case, no full stop,
    read after the field name. An item of a list speaks through its list ("tagList has an
    item that is too long ..."); the body's wrapper object is named ("body must contain a
    'user' object"). A type without a phrase reads "is invalid", never Pydantic's English
    ("Input should be ...")."""
    kind = str(error.get("type", ""))
    loc = tuple(error.get("loc", ()))
    if len(loc) == 2 and loc[0] == "body" and loc[1] in WRAPPERS:
        return f"must contain a '{loc[1]}' object"
    if len(loc) == 1 and loc[0] == "body" and kind != "missing":
        return "must be a JSON object"
    phrase = _phrase(kind, error.get("ctx") or {})
    if any(isinstance(part, int) for part in loc):
        return f"has an item that {phrase}"
    return phrase


def _is_unparsed_body(error: Mapping[str, Any]) -> bool:
    # FastAPI hands a JSON route the raw bytes when the Content-Type is not JSON (or absent):
    # validation then fails on bytes, which only happens for a media type we do not take.
    loc = tuple(error.get("loc", ()))
    return bool(loc) and loc[0] == "body" and isinstance(error.get("input"), bytes | bytearray)


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = list(exc.errors())
    for error in problems:
        if error.get("type") == "json_invalid":
            reason = str((error.get("ctx") or {}).get("error", ""))
            logger.info("400 malformed_json")
            message = (
                f"has the key {reason.removeprefix(DUPLICATE_KEY).strip()} twice"
                if reason.startswith(DUPLICATE_KEY)
                else "is not valid JSON"
            )
            return error_response(400, message, code=ErrorCode.MALFORMED_JSON)
    if any(_is_unparsed_body(error) for error in problems):
        logger.info("415 unsupported_media_type")
        return error_response(415)
    errors: dict[str, list[str]] = {}
    for error in problems:
        field = _field_of(tuple(error.get("loc", ())))
        message = _message_of(error)
        if message not in errors.setdefault(field, []):
            errors[field].append(message)
    logger.info("422 validation_failed ({})", ", ".join(errors))
    return JSONResponse(error_body(errors, ErrorCode.VALIDATION_FAILED), status_code=422)


class ConduitHTTPException(StarletteHTTPException):
    """An HTTP failure raised by our middleware whose `detail` is meant for the client."""


async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, message = code_for_status(exc.status_code)
    # Starlette's details are reason phrases ("Not Found"); ours (e.g. the body limit) say more.
    detail = exc.detail if isinstance(exc, ConduitHTTPException) else message
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request)) or headers.get("Allow", "")
    return error_response(exc.status_code, detail, code=code, headers=headers)


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path, and HEAD wherever GET is (the HEAD
    middleware runs it as a GET). (Starlette's own Allow names only the first route
    matching the path: GET for /api/articles, which also takes POST.)"""
    routes = request.app.router.routes
    # Matching on a copy of the connection's basics: routing state of this request stays put.
    base = {
        "type": "http",
        "path": request.scope["path"],
        "root_path": request.scope.get("root_path", ""),
        "headers": request.scope.get("headers", []),
        "query_string": request.scope.get("query_string", b""),
    }
    allowed = []
    for method in _METHODS:
        scope = {**base, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in routes):
            allowed.append(method)
            if method == "GET":
                allowed.append("HEAD")
    return allowed


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """500 with a generic message: no stack trace, exception text or SQL leaves the server.
    The log line has the full trace and the request id that the body reports."""
    logger.opt(exception=exc).error("unhandled {} while serving the request", type(exc).__name__)
    return error_response(500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    # Last resort only: EdgeMiddleware (entrypoints/http/middleware.py) answers 500s
    # inside the request context; this catches a failure in the outer middleware.
    app.add_exception_handler(Exception, on_unexpected)


# What any operation that reads a body may answer besides its own errors: 400 (the body
# cannot be parsed; `malformed_json` for JSON) and 413 (over MAX_BODY_BYTES). A JSON body
# adds 415 (sent as another media type) and 422 (parses, but breaks the schema).
BODY_ERRORS = (400, 413)
JSON_BODY_ERRORS = (*BODY_ERRORS, 415, 422)


# For route decorators: the error responses an operation may give, in the one shape.
def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorResponse, "description": DESCRIPTIONS[s]} for s in statuses}


# For the operations that hash a password: what a client meets when the hashing queue is full.
HASHING_BUSY: dict[int | str, dict[str, Any]] = {
    503: {
        **error_responses(503)[503],
        "description": "Too many sign-ins at once (the password hashing queue is full): "
        "retry after Retry-After seconds",
    }
}
