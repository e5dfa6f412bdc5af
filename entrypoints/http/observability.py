"""Metrics and tracing of the HTTP app: `GET /metrics`, the request metrics middleware, and
OpenTelemetry when it is configured. `install_observability(app, settings)` wires it all."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import iter_route_contexts
from loguru import logger
from starlette.routing import Match
from starlette.types import Scope

from core.shared.errors import NotAuthenticated
from entrypoints import metrics
from entrypoints.settings import Settings
from entrypoints.tracing import start_tracing

METRICS_PATH = "/metrics"


def install_observability(app: FastAPI, settings: Settings) -> None:
    """Call last in create_app: tracing's middleware then sees every request first. The
    request metrics are counted by EdgeMiddleware (entrypoints/http/middleware.py)."""
    metrics.watch_database_pools()
    app.add_api_route(
        METRICS_PATH,
        metrics_endpoint(settings),
        methods=["GET"],
        include_in_schema=False,
        name="metrics",
    )
    if settings.metrics_token is None and settings.environment == "production":
        logger.warning("METRICS_TOKEN is not set: GET /metrics answers anyone who asks")
    start_tracing(app, settings)


def metrics_endpoint(settings: Settings) -> Callable[[Request], Response]:
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None

    # A plain `def`: FastAPI runs it in the thread pool, so rendering (and, with several
    # workers, reading their files) never blocks the event loop.
    def scrape(request: Request) -> Response:
        if token is not None and not _bearer_matches(request.headers.get("authorization"), token):
            raise NotAuthenticated("a valid metrics token is required (Authorization: Bearer)")
        body, content_type = metrics.exposition(request.headers.get("accept"))
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    return scrape


def _bearer_matches(header: str | None, token: str) -> bool:
    scheme, _, presented = (header or "").strip().partition(" ")
    # compare_digest: the time taken does not tell how much of the token was right.
    same = hmac.compare_digest(presented.strip().encode(), token.encode())
    return scheme.lower() == "bearer" and same


class RouteTemplates:
    """The route template of a handled request (`/api/articles/{slug}`), never its raw path.

    FastAPI (0.137+) puts the matched APIRoute in `scope["route"]`, but included routers
    are resolved lazily and that route carries its path *before* the include prefix
    (`/articles/{slug}`); the same route object serves under /api and /api/v1. So the
    full templates come from `iter_route_contexts` (public since FastAPI 0.137.2), indexed
    by route object, and the raw path only picks between a route's few prefixes. Requests
    no route took (404s, CORS preflights, mounted static files) are matched against all
    templates; `unmatched` when none fits.
    """

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._by_route: dict[int, list[Any]] = {}
        self._only: dict[int, str] = {}  # the template of a route served under one prefix
        self._version = -1

    def _contexts(self) -> Iterator[Any]:
        return iter_route_contexts(self._app.routes)

    def _index(self) -> None:
        by_route: dict[int, list[Any]] = {}
        for context in self._contexts():
            by_route.setdefault(id(context.original_route), []).append(context)
        self._by_route = by_route
        self._only = {
            key: str(contexts[0].path_format)
            for key, contexts in by_route.items()
            if len(contexts) == 1
        }
        self._version = len(self._app.routes)

    def of(self, route: Any, request: Scope) -> str:
        """`route` is the scope's "route" after the app ran (or None); `request` a copy of
        the scope's type, method, path and root path taken before routing changed them."""
        if route is not None:
            if self._version != len(self._app.routes) or id(route) not in self._by_route:
                self._index()
            only = self._only.get(id(route))
            if only is not None:
                return only
            candidates = self._by_route.get(id(route), [])
            for context in candidates:
                if context.matches(request)[0] is not Match.NONE:
                    return str(context.path_format)
        for context in self._contexts():
            if context.matches(request)[0] is not Match.NONE and context.path_format:
                return str(context.path_format)
        return metrics.UNMATCHED
