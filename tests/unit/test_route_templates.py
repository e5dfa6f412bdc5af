"""RouteTemplates: a route's full template, whichever of its prefixes served the request."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from entrypoints.http.observability import RouteTemplates

items = APIRouter()


@items.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, Any]:
    return {}


def _request(path: str) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "root_path": ""}


def test_a_route_under_two_prefixes_and_one_under_one() -> None:
    app = FastAPI()
    app.include_router(items, prefix="/a")
    app.include_router(items, prefix="/b")

    @app.get("/alone/{name}")
    async def alone(name: str) -> dict[str, Any]:
        return {}

    templates = RouteTemplates(app)
    shared = items.routes[0]
    only = next(r for r in app.routes if isinstance(r, APIRoute) and r.path == "/alone/{name}")
    assert templates.of(shared, _request("/b/items/3")) == "/b/items/{item_id}"
    assert templates.of(shared, _request("/a/items/3")) == "/a/items/{item_id}"
    assert templates.of(only, _request("/alone/x")) == "/alone/{name}"
    assert templates.of(None, _request("/a/items/4")) == "/a/items/{item_id}"
    assert templates.of(None, _request("/nowhere")) == "unmatched"
    assert templates.of(shared, _request("/c/items/3")) == "unmatched"
