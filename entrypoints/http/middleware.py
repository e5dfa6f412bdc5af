"""HTTP middleware, pure ASGI, in two layers: `EdgeMiddleware` (metrics, request id and
access log, HEAD, CORS, security headers, RateLimit-* headers, request limits, and the 500
answer for anything unhandled) around `GZipWhenAccepted`.

The request context wraps everything, so every response (a 413, a 500, a CORS preflight)
carries X-Request-ID and every log line the request id; the 500 answer is given inside that
context, so its log line has the trace and the request id, and its response still gets the
headers every other response gets.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from loguru import logger
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from core.shared.rate_limits import RateDecision
from entrypoints import metrics
from entrypoints.http.errors import (
    ConduitHTTPException,
    ErrorCode,
    error_response,
    on_unexpected,
)
from entrypoints.http.rate_limits import STATE_KEY as RATE_LIMIT_STATE_KEY
from entrypoints.http.rate_limits import rate_limit_headers
from entrypoints.http.uploads import MULTIPART_OVERHEAD
from entrypoints.logging import lowest_level_logged, new_request_id, request_context
from entrypoints.settings import ConfigurationError, Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from entrypoints.http.observability import RouteTemplates

REQUEST_ID_HEADER = "X-Request-ID"
HEAD_SCOPE_KEY = "conduit.head"  # in the scope of a GET that answers a HEAD
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# The whole request head, names and values: h11's default limit, applied whichever HTTP
# parser uvicorn picked (httptools has none of its own).
MAX_HEADER_BYTES = 16 * 1024
GZIP_MINIMUM_BYTES = 1_024
# Tokens travel in the Authorization header, never in cookies: credentials mode stays off,
# which is also what keeps CORS_ORIGINS=* safe.
CORS_ALLOW_CREDENTIALS = False
QUIET_PATHS = ("/health/",)  # probes poll these: their access lines go to DEBUG


STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"
HTML_CSP = "frame-ancestors 'none'"  # the docs pages bring their own scripts
HSTS = "max-age=31536000"


def _security_headers(html: bool, https: bool) -> tuple[tuple[bytes, bytes], ...]:
    return (
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", (HTML_CSP if html else STRICT_CSP).encode()),
        *(((b"strict-transport-security", HSTS.encode()),) if https else ()),
    )


# (HTML?, https?) -> the security headers, pre-encoded, in the order they are added.
SECURITY_HEADERS = {(h, s): _security_headers(h, s) for h in (False, True) for s in (False, True)}


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


_INFO = 20  # loguru's level numbers
_DEBUG = 10


def _access_line(scope: Scope, status: int, seconds: float) -> None:
    """One line per request, at INFO (DEBUG for a probe's success). Not built at all when no
    sink takes it (LOG_LEVEL=WARNING): it cost 8 us a request to make a line loguru dropped."""
    lowest = lowest_level_logged()
    if lowest > _INFO:
        return
    route = route_template(scope)
    quiet = route.startswith(QUIET_PATHS) and status < 400
    if quiet and lowest > _DEBUG:
        return
    client = scope.get("client")
    method = scope["method"]
    duration_ms = round(seconds * 1000, 1)
    # Keyword arguments land in the record's `extra`, as `bind` put them, without a new logger.
    logger.log(
        "DEBUG" if quiet else "INFO",
        "{} {} {} {}ms",
        method,
        route,
        status,
        duration_ms,
        method=method,
        route=route,
        status=status,
        duration_ms=duration_ms,
        client=client[0] if client else None,
    )


class EdgeMiddleware:
    """Everything our HTTP layer does around a request, in one pure-ASGI layer with one `send`
    wrapper: each layer of its own cost a call and a wrapper per message on every request
    (seven of them took a third of a cached request's CPU). In order:

    - metrics: in-flight gauge, then a count and a latency per method, route template and
      status (`observability.RouteTemplates`);
    - request id: the client's X-Request-ID if sane, else a new one; echoed in the response
      and bound to every log line of the request; one access line per request;
    - HEAD on every GET route: FastAPI routes answer only the methods they declare, so a HEAD
      runs as the GET it stands for and the body is dropped: status and headers are the GET's,
      Content-Length included (RFC 9110, 9.3.2), and If-None-Match still gives a 304. The
      inner app gets a copy of the scope (the server's own must keep saying HEAD: it decides
      from it that no body follows); routing's keys are copied back for the log and metrics;
    - CORS: a preflight is answered here (refused in the error schema); other answers get
      Starlette's CORS headers (`ErrorSchemaCORSMiddleware` holds the policy);
    - security headers: nosniff, no-referrer, no framing on every response; a deny-all CSP on
      everything but HTML (the docs pages bring their own scripts); HSTS on https. Each only
      where the response did not set it itself; the set is pre-encoded once per (HTML, https)
      and the response's headers are read in one pass (`_response_headers`);
    - `Vary`: `Origin` for a request without Origin (what Starlette's CORS says to one with
      it), and `Accept-Encoding` for a client that does not take gzip when the body is big
      enough to be compressed for one that does (`GZipWhenAccepted` says it for those);
    - RateLimit-* headers from the decision the rate-limit dependency left in the scope;
    - request limits: 431 for a request head over MAX_HEADER_BYTES; 413 as soon as
      Content-Length, or the body streamed so far, passes `max_body_bytes` (the rest is never
      read);
    - the 500 answer, in the error schema, for anything the handlers did not map, logged with
      its trace inside the request context. If the response had already started there is
      nothing to answer; the server then closes the connection.

    Compression is the one layer inside this one (`GZipWhenAccepted`).
    """

    ROUTING_KEYS = ("route", "endpoint", "path_params")

    def __init__(
        self,
        app: ASGIApp,
        *,
        cors: ErrorSchemaCORSMiddleware,
        max_body_bytes: int,
        templates: RouteTemplates,
        rate_limit_headers: bool,
        upload_paths: frozenset[str] = frozenset(),
        upload_body_bytes: int = 0,
        gzip_minimum_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.cors = cors
        self.max_body_bytes = max_body_bytes
        # Media uploads (issue 14): their own cap, on their routes only.
        self.upload_paths = upload_paths
        self.upload_body_bytes = upload_body_bytes
        self.templates = templates
        self.rate_limit_headers = rate_limit_headers
        # Set with GZipWhenAccepted inside: the size from which a body would be compressed
        # for a client taking gzip, so the others' answers `Vary: Accept-Encoding` too.
        self.gzip_minimum_bytes = gzip_minimum_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        offered = origin = preflight = declared = None
        head_bytes = 0
        gzip = False
        for name, value in scope["headers"]:  # one pass over the head, for what is read here
            head_bytes += len(name) + len(value)
            if name == b"x-request-id":
                offered = value.decode("latin-1")
            elif name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"access-control-request-method":
                preflight = value
            elif name == b"content-length":
                declared = value
            elif name == b"accept-encoding":
                gzip = gzip or b"gzip" in value
        request_id = (
            offered if offered and _SANE_REQUEST_ID.fullmatch(offered) else new_request_id()
        )
        request = {  # for the metrics' route template: routing rewrites the scope's path
            "type": "http",
            "method": method,
            "path": scope["path"],
            "root_path": scope.get("root_path", ""),
        }
        status = 500  # unless a response starts
        response_started = False
        https = scope.get("scheme") == "https"  # uvicorn applies trusted X-Forwarded-Proto
        head = method == "HEAD"
        limit = (
            self.upload_body_bytes if scope["path"] in self.upload_paths else self.max_body_bytes
        )
        # HEAD_SCOPE_KEY tells a streaming route (an event stream never ends) to answer at once.
        inner = {**scope, "method": "GET", HEAD_SCOPE_KEY: True} if head else scope
        encoded_id = request_id.encode("latin-1")
        vary_encoding = None if gzip else self.gzip_minimum_bytes

        async def edge_send(message: Message) -> None:
            nonlocal status, response_started
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                response_started = True
                if origin is not None:  # first: it replaces the message's header list
                    await self.cors.send(message, _discard, Headers(scope=scope))
                headers = self._response_headers(
                    message.get("headers", ()), https, origin is None, vary_encoding
                )
                if self.rate_limit_headers:
                    decision = (inner.get("state") or {}).get(RATE_LIMIT_STATE_KEY)
                    if isinstance(decision, RateDecision):
                        headers.extend(rate_limit_headers(decision))
                headers.append((b"x-request-id", encoded_id))
                message["headers"] = headers
            elif head and kind == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        metrics.IN_FLIGHT.inc()
        started = time.perf_counter()
        try:
            with request_context(request_id):
                try:
                    if origin is not None and method == "OPTIONS" and preflight is not None:
                        response = self.cors.preflight_response(Headers(scope=scope))
                        await response(scope, receive, edge_send)
                    elif head_bytes > MAX_HEADER_BYTES:
                        await error_response(431)(scope, receive, edge_send)
                    elif declared is not None and declared.isdigit() and int(declared) > limit:
                        await self._too_large(scope, receive, edge_send, limit)
                    else:
                        await self.app(inner, self._limited(receive, limit), edge_send)
                except _BodyTooLarge:
                    if response_started:
                        raise
                    await self._too_large(scope, receive, edge_send, limit)
                except Exception as exc:
                    response = await on_unexpected(Request(scope, receive), exc)
                    if not response_started:
                        await response(scope, receive, edge_send)
                finally:
                    if head:
                        for key in self.ROUTING_KEYS:
                            if key in inner:
                                scope[key] = inner[key]
                    _access_line(scope, status, time.perf_counter() - started)
        finally:
            elapsed = time.perf_counter() - started
            metrics.IN_FLIGHT.dec()
            route = self.templates.of(scope.get("route"), request)
            metrics.count_request(method, route, status, elapsed)

    def _limited(self, receive: Receive, limit: int) -> Receive:
        received = 0

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

        return limited_receive

    def _response_headers(
        self,
        given: Iterable[tuple[bytes, bytes]],
        https: bool,
        vary_origin: bool,
        vary_encoding_from: int | None,
    ) -> list[tuple[bytes, bytes]]:
        """A new list (the response's own may be shared: it is never changed) of the
        response's headers, its Vary values merged into one header with `Origin` and
        `Accept-Encoding` added when asked, then the security headers it did not set, all read
        in one pass. Header names are lower case in ASGI messages (Starlette's are)."""
        headers: list[tuple[bytes, bytes]] = []
        present: set[bytes] = set()
        vary: list[bytes] = []
        content_type = length = None
        for name, value in given:
            if name == b"vary":
                vary.append(value)
                continue
            if name == b"x-request-id":
                continue  # ours replaces it
            if name == b"content-type" and content_type is None:
                content_type = value
            elif name == b"content-length" and length is None:
                length = value
            present.add(name)
            headers.append((name, value))
        if vary_encoding_from is not None and (
            length is None or (length.isdigit() and int(length) >= vary_encoding_from)
        ):
            vary.append(b"Accept-Encoding")
        if vary_origin:
            vary.append(b"Origin")
        if vary:
            headers.append((b"vary", b", ".join(vary)))
        html = content_type is not None and content_type.startswith(b"text/html")
        for header in SECURITY_HEADERS[html, https]:
            if header[0] not in present:
                headers.append(header)
        return headers

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        logger.info("413 payload_too_large (limit {} bytes)", limit)
        message = f"request body is larger than {limit} bytes"
        await error_response(413, message)(scope, receive, send)


async def _discard(_message: Message) -> None:
    """The `send` Starlette's CORS is handed: it only sets headers; EdgeMiddleware sends."""


class _BodyTooLarge(ConduitHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes")


class GZipWhenAccepted:
    """Starlette's GZip for the clients that accept gzip; the others skip the layer (its
    identity responder held every response back to decide) and get no wrapper at all:
    `EdgeMiddleware(gzip_minimum_bytes=...)` tells them `Vary: Accept-Encoding` when the
    body is big enough to be compressed, as Starlette's says it to those it compresses for."""

    def __init__(self, app: ASGIApp, minimum_size: int) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"accept-encoding" and b"gzip" in value:
                    await self.gzip(scope, receive, send)
                    return
        await self.app(scope, receive, send)


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
    "Last-Event-ID",  # an EventSource resuming an article's event stream
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


def install_middleware(
    app: FastAPI,
    settings: Settings,
    templates: RouteTemplates,
    *,
    upload_paths: frozenset[str] = frozenset(),
) -> None:
    """Ours: compression inside, everything else in one layer around it (EdgeMiddleware).
    `add_middleware` wraps what is there, so this goes innermost first."""
    app.add_middleware(GZipWhenAccepted, minimum_size=GZIP_MINIMUM_BYTES)
    app.add_middleware(
        EdgeMiddleware,
        cors=ErrorSchemaCORSMiddleware(_no_app, **cors_options(settings)),
        max_body_bytes=settings.max_body_bytes,
        templates=templates,
        rate_limit_headers=settings.rate_limit_enabled,
        upload_paths=upload_paths,
        upload_body_bytes=settings.upload_max_bytes + MULTIPART_OVERHEAD,
        gzip_minimum_bytes=GZIP_MINIMUM_BYTES,
    )


async def _no_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The app of the CORS policy object, which EdgeMiddleware asks but never runs."""
    raise RuntimeError("the CORS policy object is not a middleware here")
