"""The API's routes, added flat to the app under each prefix.

FastAPI (0.137+) includes routers lazily: a request walks the tree of included routers and
matches at every level, then again while handling. With our routers (two prefixes, three
levels) that walk cost more than the rest of a cached request: 40 % of the CPU of
`GET /api/v1/tags` in process (cProfile), and a route under /api paid for all of /api/v1 first.
So `add_routes` copies each route onto the app as `include_router` did before 0.137, with the
include's prefix, dependencies and responses merged in: the app's router scans one list.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response, params
from fastapi._compat import ModelField, field_annotation_is_sequence
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_validation_alias, request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.params import Depends
from fastapi.routing import APIRoute, serialize_response
from fastapi.sse import EventSourceResponse
from fastapi.utils import is_body_allowed_for_status_code
from pydantic import BaseModel, Json
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


@dataclass(frozen=True, slots=True)
class _Step:
    """One dependency of a direct route: `await call(request)` (or `call()`), its value
    passed to the endpoint as `name` (None: a route dependency, run for its effect)."""

    name: str | None
    call: Callable[..., Awaitable[Any]]
    takes_request: bool
    use_cache: bool


@dataclass(frozen=True, slots=True)
class DirectPlan:
    """How to run a route without FastAPI's generic request handler, for the routes whose
    shape allows it: no body, an `async def` endpoint, and dependencies that are `async def`
    functions of the request alone (use cases from the container, the caller, the rate limit:
    every dependency this API has); an endpoint that
    returns a model rather than a Response is serialised as FastAPI's handler does.

    Per request FastAPI's handler builds two exit stacks, an exception-handling wrapper with its
    own `send` wrapper, a sub-response, an endpoint context and a cache key per dependency,
    walking the dependency tree recursively; for `GET /api/profiles/{username}` with a token
    that was a third of the route's CPU. The plan does what that handler does for this shape,
    in the same order, with FastAPI's own parameter validation: dependencies first (in
    declaration order, each solved once per request as FastAPI caches them), then path, query,
    header and cookie parameters (`request_params_to_args`), a `RequestValidationError` with
    FastAPI's error list when any fails, then the endpoint. Exceptions propagate to the app's
    exception handlers (ExceptionMiddleware), as they do from FastAPI's handler. Any other
    shape, or dependency overrides (tests), takes FastAPI's handler unchanged."""

    route: APIRoute
    dependant: Dependant
    steps: tuple[_Step, ...]
    response_class: type[Response]
    # (name, path key, field) per path parameter, when every one is a plain value (no model,
    # no sequence, no Json): its value is the path's, validated by the field itself, as
    # `request_params_to_args` does for these. None: that function, for all of them.
    path_fields: tuple[tuple[str, str, ModelField], ...] | None = None

    @classmethod
    def of(cls, route: APIRoute) -> DirectPlan | None:
        dependant = route.dependant
        endpoint = dependant.call
        if (
            route.body_field is not None
            or route.max_body_size is not None
            or route.is_json_stream
            or route.stream_item_field is not None
            or endpoint is None
            or not inspect.iscoroutinefunction(endpoint)
            or not _plain(dependant)
        ):
            return None
        response_class = route.response_class
        if isinstance(response_class, DefaultPlaceholder):
            response_class = response_class.value
        if not issubclass(response_class, Response) or issubclass(
            response_class, EventSourceResponse
        ):
            return None
        steps: list[_Step] = []
        for sub in dependant.dependencies:
            call = sub.call
            if (
                call is None
                or not inspect.iscoroutinefunction(call)
                or sub.dependencies
                or sub.concurrency is not None
                or not _plain(sub)
                or sub.path_params
                or sub.query_params
                or sub.header_params
                or sub.cookie_params
                or len(inspect.signature(call).parameters) != (1 if sub.request_param_name else 0)
            ):
                return None
            steps.append(_Step(sub.name, call, sub.request_param_name is not None, sub.use_cache))
        return cls(route, dependant, tuple(steps), response_class, _path_fields(dependant))

    async def response(self, request: Request) -> Response:
        dependant = self.dependant
        values: dict[str, Any] = {}
        solved: dict[Callable[..., Awaitable[Any]], Any] = {}
        for step in self.steps:
            if step.use_cache and step.call in solved:
                value = solved[step.call]
            else:
                value = await (step.call(request) if step.takes_request else step.call())
                solved.setdefault(step.call, value)
            if step.name is not None:
                values[step.name] = value
        errors: list[Any] = []
        if dependant.path_params:
            errors += self._path_values(request.path_params, values)
        # Each group read only when the route declares one: parsing the query string or the
        # cookies costs a few microseconds a request, for nothing on most routes.
        if dependant.query_params:
            found, problems = request_params_to_args(dependant.query_params, request.query_params)
            values.update(found)
            errors += problems
        if dependant.header_params:
            found, problems = request_params_to_args(dependant.header_params, request.headers)
            values.update(found)
            errors += problems
        if dependant.cookie_params:
            found, problems = request_params_to_args(dependant.cookie_params, request.cookies)
            values.update(found)
            errors += problems
        if errors:
            raise RequestValidationError(errors)
        if dependant.request_param_name:
            values[dependant.request_param_name] = request
        assert dependant.call is not None  # checked in `of`
        content = await dependant.call(**values)
        return content if isinstance(content, Response) else await self._render(content)

    def _path_values(self, received: dict[str, Any], values: dict[str, Any]) -> list[Any]:
        """The path parameters into `values`; their validation errors. What
        `request_params_to_args` gives for them, without its per-field inspection of the
        parameter's kind, aliases and annotation, done once here (`_path_fields`)."""
        fields = self.path_fields
        if fields is None or any(received.get(key) is None for _, key, _ in fields):
            found, problems = request_params_to_args(self.dependant.path_params, received)
            values.update(found)
            return problems
        errors: list[Any] = []
        for name, key, field in fields:
            value, problems = field.validate(received[key], {}, loc=("path", key))
            if problems:
                errors += problems
            else:
                values[name] = value
        return errors

    async def _render(self, content: Any) -> Response:
        """What FastAPI's handler does with an endpoint's return value that is not a Response
        (fastapi.routing.get_request_handler): validate it against the response model and
        serialise it, straight to JSON bytes when the response class is the default."""
        route = self.route
        dump_json = route.response_field is not None and isinstance(
            route.response_class, DefaultPlaceholder
        )
        body = await serialize_response(
            field=route.response_field,
            response_content=content,
            include=route.response_model_include,
            exclude=route.response_model_exclude,
            by_alias=route.response_model_by_alias,
            exclude_unset=route.response_model_exclude_unset,
            exclude_defaults=route.response_model_exclude_defaults,
            exclude_none=route.response_model_exclude_none,
            is_coroutine=True,
            dump_json=dump_json,
        )
        # The route's status code, else the response class's own default (FastAPI's way).
        status = route.status_code
        if dump_json:
            response = Response(body, status or 200, media_type="application/json")
        elif status:
            response = self.response_class(body, status)
        else:
            response = self.response_class(body)
        if not is_body_allowed_for_status_code(response.status_code):
            response.body = b""
        return response


def _path_fields(dependant: Dependant) -> tuple[tuple[str, str, ModelField], ...] | None:
    """DirectPlan.path_fields: None unless every path parameter is a `Path` of a plain type,
    for which `request_params_to_args` reads `path_params[alias]` and validates it."""
    fields: list[tuple[str, str, ModelField]] = []
    for field in dependant.path_params:
        info = field.field_info
        if (
            not isinstance(info, params.Path)
            or type(info.annotation) is not type  # a plain class: not a generic, not an Enum
            or issubclass(info.annotation, BaseModel)
            or field_annotation_is_sequence(info.annotation)
            or any(type(item) is Json for item in info.metadata)
        ):
            return None
        fields.append((field.name, get_validation_alias(field), field))
    return tuple(fields)


def _plain(dependant: Dependant) -> bool:
    """No parameter kinds the direct plan does not fill in."""
    return not (
        dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    )


class StrictJsonRoute(APIRoute):
    """An API route that reads its JSON body with StrictJsonRequest (FastAPI's documented way
    to customise the request class of a route), and runs without FastAPI's generic request
    handler when its shape allows (DirectPlan)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.direct = DirectPlan.of(self)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:  # no body to read: no second request object per call
            return handler

        async def strict(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        plan = self.direct
        if (
            plan is None
            or scope["method"] not in (self.methods or ())  # 405: Starlette's answer
            or (
                self.dependency_overrides_provider is not None
                and self.dependency_overrides_provider.dependency_overrides
            )
        ):
            await super().handle(scope, receive, send)
            return
        response = await plan.response(Request(scope, receive, send))
        await response(scope, receive, send)


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
