"""A route run by its DirectPlan answers exactly what FastAPI's own request handler answers."""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Any

import httpx2
import pytest
from fastapi import APIRouter, Cookie, Depends, FastAPI, Header, HTTPException, Path, Query, Request
from fastapi.dependencies.utils import request_params_to_args
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel

from entrypoints.http.app import create_app
from entrypoints.http.errors import install_error_handlers
from entrypoints.http.routing import DirectPlan, StrictJsonRoute, add_routes
from entrypoints.settings import Settings

calls: list[str] = []


async def counted(request: Request) -> str:
    calls.append("counted")
    return request.url.path


async def no_request() -> int:
    return 7


async def refusing(request: Request) -> None:
    if request.headers.get("x-refuse"):
        raise HTTPException(403, "refused")


class Item(BaseModel):
    name: str
    size: int
    secret: str | None = None


Counted = Annotated[str, Depends(counted)]
router = APIRouter(dependencies=[Depends(refusing)])


@router.get("/items/{name}", response_model=Item, response_model_exclude_none=True)
async def item(
    name: Annotated[str, Path(max_length=5)],
    first: Counted,
    again: Counted,  # the same dependency twice: solved once per request
    seven: Annotated[int, Depends(no_request)],
    size: Annotated[int, Query(ge=1, le=10)] = 3,
    x_tag: Annotated[str | None, Header()] = None,
    flavour: Annotated[str | None, Cookie(max_length=3)] = None,
) -> Any:
    if name == "boom":
        raise HTTPException(409, "boom")
    return {"name": name + (x_tag or "") + (flavour or ""), "size": size * seven, "secret": None}


@router.get("/created", status_code=201)
async def created(path: Counted) -> Item:
    return Item(name=path, size=1)


@router.get("/plain")
async def plain(request: Request, path: Counted) -> Response:
    return JSONResponse({"path": path, "query": dict(request.query_params)}, status_code=202)


class Color(Enum):
    RED = "red"


@router.get("/numbers/{n}/{color}")
async def numbers(
    n: Annotated[int, Path(ge=0)], color: Color, path: Counted
) -> dict[str, Any]:  # an Enum path parameter: FastAPI's own extraction for the route
    return {"n": n, "color": color.value}


@router.get("/counts/{n}/{name}")
async def counts(n: int, name: Annotated[str, Path(min_length=2)]) -> dict[str, Any]:
    return {"n": n, "name": name}


@router.delete("/gone", status_code=204)
async def gone() -> None:
    return None


def build(direct: bool) -> FastAPI:
    app = FastAPI()
    add_routes(app, [router], prefix="/api")
    install_error_handlers(app)
    for route in app.router.routes:
        if isinstance(route, StrictJsonRoute):
            assert route.direct is not None, route.path
            if not direct:
                route.direct = None
    return app


REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/api/items/abc", {}),
    ("GET", "/api/items/abc?size=2", {"x-tag": "!"}),
    ("GET", "/api/items/abc", {"cookie": "flavour=mnt"}),
    ("GET", "/api/items/abc?size=0", {"cookie": "flavour=mint"}),  # too long, and the size
    ("GET", "/api/items/abcdefg", {}),  # path too long: 422
    ("GET", "/api/items/abc?size=0", {}),  # below the minimum
    ("GET", "/api/items/abc?size=x&size=2", {}),
    ("GET", "/api/items/abcdefg?size=99", {}),  # two errors at once
    ("GET", "/api/items/boom", {}),  # the endpoint raises
    ("GET", "/api/items/abc", {"x-refuse": "1"}),  # a route dependency raises
    ("POST", "/api/items/abc", {}),  # 405
    ("GET", "/api/created", {}),
    ("GET", "/api/plain?a=1&b=2", {}),
    ("DELETE", "/api/gone", {}),
    ("GET", "/api/numbers/4/red", {}),
    ("GET", "/api/numbers/-1/blue", {}),  # two errors, one per path parameter
    ("GET", "/api/counts/12/ab", {}),
    ("GET", "/api/counts/x/a", {}),  # two errors, in declaration order
    ("GET", "/api/counts/007/abc", {}),
]


async def answer(app: FastAPI, method: str, url: str, headers: dict[str, str]) -> tuple[Any, ...]:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://t") as http:
        r = await http.request(method, url, headers=headers)
    kept = sorted((k, v) for k, v in r.headers.items() if k not in ("date", "content-length"))
    return r.status_code, re.sub(rb'"requestId":"[0-9a-f]+"', b"", r.content), kept


@pytest.mark.parametrize(("method", "url", "headers"), REQUESTS)
async def test_a_direct_route_answers_what_fastapi_answers(
    method: str, url: str, headers: dict[str, str]
) -> None:
    calls.clear()
    expected = await answer(build(direct=False), method, url, headers)
    fastapi_calls = list(calls)
    calls.clear()
    assert await answer(build(direct=True), method, url, headers) == expected
    assert calls == fastapi_calls


async def test_a_dependency_used_twice_runs_once() -> None:
    calls.clear()
    status, _, _ = await answer(build(direct=True), "GET", "/api/items/abc", {})
    assert status == 200
    assert calls == ["counted"]


async def test_dependency_overrides_are_honoured() -> None:
    app = build(direct=True)

    async def overridden(request: Request) -> str:
        return "over"

    app.dependency_overrides[counted] = overridden
    status, body, _ = await answer(app, "GET", "/api/created", {})
    assert (status, body) == (201, b'{"name":"over","size":1,"secret":null}')


shapes = APIRouter()


class Body(BaseModel):
    x: int


@shapes.post("/body")
async def with_body(body: Body) -> Response:
    return Response()


@shapes.get("/sync")
def sync_endpoint() -> Response:
    return Response()


async def nested(path: Counted) -> str:
    return path


@shapes.get("/nested")
async def with_nested(value: Annotated[str, Depends(nested)]) -> Response:
    return Response()


@shapes.get("/response-param")
async def with_response_param(response: Response) -> dict[str, int]:
    return {}


def test_routes_of_other_shapes_keep_fastapi_handler() -> None:
    app = FastAPI()
    add_routes(app, [shapes], prefix="")
    routes = [r for r in app.router.routes if isinstance(r, APIRoute)]
    assert len(routes) == 4
    assert [r.path for r in routes if not isinstance(r, StrictJsonRoute) or r.direct] == []
    assert all(DirectPlan.of(r) is None for r in routes)


def test_the_api_hot_reads_run_direct() -> None:
    """What the direct plan is for: the reads the benchmark measures (and nothing with a body)."""
    app = create_app(Settings(secret_key="s" * 48))
    direct = {
        (method, route.path)
        for route in app.router.routes
        if isinstance(route, StrictJsonRoute) and route.direct is not None
        for method in route.methods or ()
    }
    for path in (
        "/api/tags",
        "/api/articles",
        "/api/articles/feed",
        "/api/articles/{slug}",
        "/api/articles/{slug}/comments",
        "/api/profiles/{username}",
        "/api/user",
    ):
        assert ("GET", path) in direct, path
    assert ("POST", "/api/articles") not in direct


def test_plain_path_parameters_are_read_by_the_plan_itself() -> None:
    """Plain path parameters skip request_params_to_args; an Enum one keeps it; a missing
    value (not from Starlette's routing) gets that function's answer."""
    plans = {
        route.path: route.direct
        for route in build(direct=True).router.routes
        if isinstance(route, StrictJsonRoute)
    }
    counts, numbers = plans["/api/counts/{n}/{name}"], plans["/api/numbers/{n}/{color}"]
    assert counts is not None
    assert numbers is not None
    assert [(name, key) for name, key, _ in counts.path_fields or ()] == [
        ("n", "n"),
        ("name", "name"),
    ]
    assert numbers.path_fields is None
    values: dict[str, Any] = {}
    errors = counts._path_values({"n": "3"}, values)
    expected = request_params_to_args(counts.dependant.path_params, {"n": "3"})
    assert (values, errors) == expected
    assert [e["loc"] for e in errors] == [("path", "name")]
