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
