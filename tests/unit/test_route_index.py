"""RouteIndex picks the route the router's own linear dispatch would pick, for every route."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute, Match, Route

from entrypoints.http.routing import RouteIndex
from tests.apps import memory_app


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def _linear(routes: list[BaseRoute], scope: dict[str, Any]) -> BaseRoute | None:
    """What Starlette's Router does: the first route in order that fully matches."""
    for route in routes:
        if route.matches(dict(scope))[0] is Match.FULL:
            return route
    return None


def _requests(app: FastAPI) -> list[tuple[str, str]]:
    """A request per route and method (parameters filled in), plus near misses."""
    requests = []
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        path = re.sub(r"\{[^}]+\}", "x", route.path)
        for method in sorted(route.methods or {"GET"}):
            requests += [(method, path), (method, path + "/"), (method, path + "/extra")]
    requests += [("GET", "/health/live"), ("GET", "/health/ready"), ("GET", "/nowhere")]
    requests += [("GET", "/api/articles/feed"), ("PATCH", "/api/tags"), ("GET", "/")]
    return requests


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return memory_app()


def test_the_index_picks_the_route_a_linear_scan_picks(app: FastAPI) -> None:
    index = RouteIndex(app.router, app.router.middleware_stack)
    checked = 0
    for method, path in _requests(app):
        scope = _scope(method, path)
        expected = _linear(app.router.routes, scope)
        found = index.match(dict(scope))
        if found is not None:  # None: the router's own dispatch decides (404, 405, ...)
            assert found[0] is expected, (method, path)
            checked += 1
        elif isinstance(expected, Route) and "{" not in expected.path.split("/", 3)[1]:
            raise AssertionError(f"{method} {path}: the index missed {expected.path}")
    assert checked > 60


def test_feed_is_not_taken_for_an_article_slug(app: FastAPI) -> None:
    index = RouteIndex(app.router, app.router.middleware_stack)
    found = index.match(_scope("GET", "/api/articles/feed"))
    assert found is not None
    assert getattr(found[0], "path", None) == "/api/articles/feed"


def test_a_route_added_later_is_found(app: FastAPI) -> None:
    fresh = memory_app(cors_origins="http://late.example")  # an app of its own
    index = RouteIndex(fresh.router, fresh.router.middleware_stack)
    assert index.match(_scope("GET", "/late/route")) is None

    @fresh.get("/late/route")
    async def late() -> dict[str, str]:
        return {}

    found = index.match(_scope("GET", "/late/route"))
    assert found is not None
    assert getattr(found[0], "path", None) == "/late/route"


def test_a_request_under_a_root_path_goes_to_the_router(app: FastAPI) -> None:
    index = RouteIndex(app.router, app.router.middleware_stack)
    assert index.match({**_scope("GET", "/prefix/api/tags"), "root_path": "/prefix"}) is None
