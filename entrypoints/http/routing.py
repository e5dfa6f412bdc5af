"""The API's routes, added flat to the app under each prefix.

FastAPI (0.137+) includes routers lazily: a request walks the tree of included routers and
matches at every level, then again while handling. With our routers (two prefixes, three
levels) that walk cost more than the rest of a cached request: 40 % of the CPU of
`GET /api/v1/tags` in process (cProfile), and a route under /api paid for all of /api/v1 first.
So `add_routes` copies each route onto the app as `include_router` did before 0.137, with the
include's prefix, dependencies and responses merged in: the app's router scans one list.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.params import Depends
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

DUPLICATE_KEY = "duplicate key"


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json.loads' object hook: a key given twice is an error, not "the last one wins" (two
    parsers could read two different requests out of one body)."""
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise json.JSONDecodeError(f"{DUPLICATE_KEY} {key[:64]!r}", "", 0)
        obj[key] = value
    return obj


class StrictJsonRequest(Request):
    """A request whose JSON body refuses duplicate keys (400 `malformed_json`)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), object_pairs_hook=_refuse_duplicate_keys)
        return self._json


class StrictJsonRoute(APIRoute):
    """An API route that reads its JSON body with StrictJsonRequest (FastAPI's documented way
    to customise the request class of a route)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:  # no body to read: no second request object per call
            return handler

        async def strict(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict


def add_routes(
    app: FastAPI,
    routers: Iterable[APIRouter],
    *,
    prefix: str,
    dependencies: Sequence[Depends] = (),
    responses: dict[int | str, dict[str, Any]] | None = None,
    include_in_schema: bool = True,
) -> None:
    """Add every route of `routers` to `app` under `prefix`: `include_router`'s result,
    without its per-request walk. A router's own prefix, tags, responses and dependencies
    are already part of its routes (FastAPI merges them when a route is declared)."""
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):  # an included router or a mount: not flat
                raise TypeError(f"add_routes takes API routes only, not {route!r}")
            app.router.add_api_route(
                prefix + route.path,
                route.endpoint,
                response_model=route.response_model,
                status_code=route.status_code,
                tags=list(route.tags),
                dependencies=[*dependencies, *route.dependencies],
                summary=route.summary,
                description=route.description,
                response_description=route.response_description,
                responses={**(responses or {}), **route.responses},
                deprecated=route.deprecated,
                methods=sorted(route.methods or ()),
                operation_id=route.operation_id,
                response_model_include=route.response_model_include,
                response_model_exclude=route.response_model_exclude,
                response_model_by_alias=route.response_model_by_alias,
                response_model_exclude_unset=route.response_model_exclude_unset,
                response_model_exclude_defaults=route.response_model_exclude_defaults,
                response_model_exclude_none=route.response_model_exclude_none,
                include_in_schema=route.include_in_schema and include_in_schema,
                response_class=route.response_class,
                name=route.name,
                callbacks=route.callbacks,
                openapi_extra=route.openapi_extra,
                generate_unique_id_function=route.generate_unique_id_function,
                route_class_override=StrictJsonRoute,
                strict_content_type=route.strict_content_type,
                max_body_size=route.max_body_size,
                form_limits=route.form_limits,
            )


class RouteIndex:
    """The app router's dispatch, looking up a request's candidate routes by the first two
    segments of its path instead of trying every route in turn.

    Starlette matches a request against the routes one by one, a regular expression each
    (FastAPI adds its own bookkeeping per try): `GET /api/tags` tried 20 routes, a health
    probe 57, about 2 us each. Here the routes whose first two path segments are literal
    text sit in a bucket per segment pair; the rest (a parameter or converter there, mounts,
    included routers) are in every bucket, all in their original order. A route can only
    match paths that start with its literal segments, so the first full match in the bucket
    is the first in the whole list. Anything else (no full match: 404, 405; a root_path; a
    route that puts FastAPI's own keys in the scope) goes to the router's own dispatch,
    unchanged. The buckets are rebuilt when routes are added.
    """

    def __init__(self, router: APIRouter, dispatch: ASGIApp) -> None:
        self._router, self._dispatch = router, dispatch
        self._routes: list[BaseRoute] | None = None
        self._count = -1
        self._buckets: dict[tuple[str, ...], tuple[BaseRoute, ...]] = {}
        self._anywhere: tuple[BaseRoute, ...] = ()

    @staticmethod
    def _key(path: str) -> tuple[str, ...]:
        return tuple(path.split("/", 3)[1:3])

    def _index(self) -> None:
        routes = self._router.routes
        literal: list[tuple[int, tuple[str, ...], BaseRoute]] = []
        anywhere: list[tuple[int, BaseRoute]] = []
        for position, route in enumerate(routes):
            key = self._key(route.path) if isinstance(route, Route | APIRoute) else None
            if key is None or any("{" in segment for segment in key):
                anywhere.append((position, route))
            else:
                literal.append((position, key, route))
        buckets: dict[tuple[str, ...], list[tuple[int, BaseRoute]]] = {}
        for position, key, route in literal:
            buckets.setdefault(key, []).append((position, route))
        self._buckets = {
            key: tuple(route for _, route in sorted(bucket + anywhere, key=lambda p: p[0]))
            for key, bucket in buckets.items()
        }
        self._anywhere = tuple(route for _, route in anywhere)
        self._routes, self._count = routes, len(routes)

    def match(self, scope: Scope) -> tuple[BaseRoute, Scope] | None:
        """The first route that fully matches an HTTP request, and its child scope; None when
        the router's own dispatch must decide."""
        if scope.get("root_path") or self._router.form_limits:
            return None
        if self._router.routes is not self._routes or len(self._router.routes) != self._count:
            self._index()
        for route in self._buckets.get(self._key(scope["path"]), self._anywhere):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                # FastAPI merges its own scope keys (included routers): its dispatch does.
                return None if "fastapi" in child_scope else (route, child_scope)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.match(scope) if scope["type"] == "http" else None
        if found is None:
            await self._dispatch(scope, receive, send)
            return
        route, child_scope = found
        scope.setdefault("router", self._router)
        scope.update(child_scope)
        await route.handle(scope, receive, send)


def index_routes(app: FastAPI) -> None:
    """Dispatch the app's requests through a RouteIndex (call once, routes added or not)."""
    router = app.router
    router.middleware_stack = RouteIndex(router, router.middleware_stack)
