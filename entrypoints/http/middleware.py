"""HTTP middleware, pure ASGI: request id and access log, HEAD, security headers, CORS, gzip,
request limits, and the 500 answer for anything unhandled.

Order, outermost first (see `install_middleware`): the request context wraps everything, so
every response (a 413, a 500, a CORS preflight) carries X-Request-ID and every log line the
request id; the 500 answer sits innermost, inside that context, so its log line has the trace
and the request id, and its response still gets the headers of the layers around it.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from loguru import logger
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from entrypoints.http.errors import (
    ConduitHTTPException,
    ErrorCode,
    error_response,
    on_unexpected,
)
from entrypoints.logging import new_request_id, request_context
from entrypoints.settings import ConfigurationError, Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# The whole request head, names and values: h11's default limit, applied whichever HTTP
# parser uvicorn picked (httptools has none of its own).
MAX_HEADER_BYTES = 16 * 1024
GZIP_MINIMUM_BYTES = 1_024
# Tokens travel in the Authorization header, never in cookies: credentials mode stays off,
# which is also what keeps CORS_ORIGINS=* safe.
CORS_ALLOW_CREDENTIALS = False
QUIET_PATHS = ("/health/",)  # probes poll these: their access lines go to DEBUG


def route_template(scope: Scope) -> str:
    """The matched route's template (`/api/articles/{slug}`), never the raw path;
    "unmatched" when no route matched."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    template = getattr(route, "path_format", None)
    regex = getattr(route, "path_regex", None)
    if not isinstance(template, str):
        return "unmatched"
    # FastAPI (0.137+) keeps an included router's routes unprefixed ("/articles/{slug}"):
    # the prefix is the literal start of the path before the part the route matched.
    path: str = scope.get("path", "")
    if regex is not None and not regex.match(path):
        for index, char in enumerate(path):
            if char == "/" and index > 0 and regex.match(path[index:]):
                return path[:index] + template
    return template


class RequestContextMiddleware:
    """Request id (the client's X-Request-ID if sane, else a new one), echoed in the response
    and bound to every log line of the request; then one access line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = (
            offered if offered and _SANE_REQUEST_ID.fullmatch(offered) else new_request_id()
        )
        status = 500  # unless a response starts
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with request_context(request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                _access_line(scope, status, time.perf_counter() - started)


def _access_line(scope: Scope, status: int, seconds: float) -> None:
    client = scope.get("client")
    route = route_template(scope)
    duration_ms = round(seconds * 1000, 1)
    quiet = route.startswith(QUIET_PATHS) and status < 400
    logger.bind(
        method=scope["method"],
        route=route,
        status=status,
        duration_ms=duration_ms,
        client=client[0] if client else None,
    ).log(
        "DEBUG" if quiet else "INFO",
        "{} {} {} {}ms",
        scope["method"],
        route,
        status,
        duration_ms,
    )


class SecurityHeadersMiddleware:
    """nosniff, no-referrer, no framing on every response; a deny-all CSP on everything but
    HTML (the docs pages bring their own scripts, and may set their own CSP); HSTS on https."""

    STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"
    HTML_CSP = "frame-ancestors 'none'"
    HSTS = "max-age=31536000"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"  # uvicorn applies trusted X-Forwarded-Proto

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
                html = headers.get("content-type", "").startswith("text/html")
                headers.setdefault(
                    "Content-Security-Policy", self.HTML_CSP if html else self.STRICT_CSP
                )
                if https:
                    headers.setdefault("Strict-Transport-Security", self.HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGetMiddleware:
    """HEAD on every GET route. FastAPI routes answer only the methods they declare, so a HEAD
    runs as the GET it stands for and the body is dropped: status and headers are the GET's,
    Content-Length included (RFC 9110, 9.3.2), and If-None-Match still gives a 304.

    The inner app gets a copy of the scope: the server's own scope must keep saying HEAD (it
    decides from it that no body follows). Routing fills in the scope it is given, so the
    matched route is copied back for the access log and the metrics around this layer.
    """

    ROUTING_KEYS = ("route", "endpoint", "path_params")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        as_get = {**scope, "method": "GET"}

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        try:
            await self.app(as_get, receive, send_without_body)
        finally:
            for key in self.ROUTING_KEYS:
                if key in as_get:
                    scope[key] = as_get[key]


class _BodyTooLarge(ConduitHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes")


class RequestLimitsMiddleware:
    """413 as soon as Content-Length, or the body streamed so far, passes `max_body_bytes`
    (the rest is never read); 431 for a request head over MAX_HEADER_BYTES."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if sum(len(name) + len(value) for name, value in scope["headers"]) > MAX_HEADER_BYTES:
            await error_response(431)(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, receive, send)
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException: FastAPI re-raises it from body parsing, and the
                    # exception handlers answer it in the error schema.
                    raise _BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if response_started:
                raise
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        logger.info("413 payload_too_large (limit {} bytes)", self.max_body_bytes)
        message = f"request body is larger than {self.max_body_bytes} bytes"
        await error_response(413, message)(scope, receive, send)


class UnhandledErrorMiddleware:
    """Innermost: turns any exception the handlers did not map into the 500 error schema,
    logged with its trace inside the request context. If the response had already started
    there is nothing to answer; the server then closes the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            response = await on_unexpected(Request(scope, receive), exc)
            if not response_started:
                await response(scope, receive, send)


class ErrorSchemaCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered in the error schema."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refused = bytes(response.body).decode()  # "Disallowed CORS origin, method"
        cors_headers = {
            k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")
        }
        return error_response(
            response.status_code, refused, code=ErrorCode.CORS_REJECTED, headers=cors_headers
        )


# Request headers a page on another origin may send: every one the API reads (Content-Type
# is safelisted only for form and text types, not application/json). Idempotency-Key is
# allowed ahead of the roadmap item that reads it.
CORS_ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "X-API-Key",
    REQUEST_ID_HEADER,
    "Idempotency-Key",
    "X-Requested-With",
)
# Response headers such a page may read; without this list it sees only the safelisted
# ones (Cache-Control, Content-Type, Content-Length...), so no ETag to send back in If-Match.
CORS_EXPOSE_HEADERS = (
    "ETag",
    "Location",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    REQUEST_ID_HEADER,
    "WWW-Authenticate",
)
CORS_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def cors_options(settings: Settings) -> dict[str, Any]:
    origins = settings.cors_origin_list
    if "*" in origins and CORS_ALLOW_CREDENTIALS:
        raise ConfigurationError("CORS_ORIGINS=* cannot be combined with credentials")
    return {
        "allow_origins": origins,
        "allow_credentials": CORS_ALLOW_CREDENTIALS,
        "allow_methods": list(CORS_METHODS),
        "allow_headers": list(CORS_ALLOW_HEADERS),
        "expose_headers": list(CORS_EXPOSE_HEADERS),
        "max_age": 600,
    }


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Add ours; `add_middleware` wraps what is there, so this goes innermost first."""
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(RequestLimitsMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    app.add_middleware(ErrorSchemaCORSMiddleware, **cors_options(settings))
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(RequestContextMiddleware)
