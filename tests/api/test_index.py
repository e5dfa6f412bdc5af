"""First contact: `/`, `/api` and `/api/v1` answer a JSON index whose links all work."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from fastapi import FastAPI

from tests.api.helpers import MEMORY_ONLY

pytestmark = MEMORY_ONLY

INDEX_PATHS = ["/", "/api", "/api/v1"]


async def _index(client: httpx2.AsyncClient, path: str = "/") -> dict[str, Any]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("path", INDEX_PATHS)
async def test_the_roots_answer_the_index(client: httpx2.AsyncClient, path: str) -> None:
    index = await _index(client, path)

    assert index["name"] == "Conduit"
    assert index["version"]
    assert index["links"] == {
        "api": "/api",
        "apiV1": "/api/v1",
        "docs": "/docs",
        "redoc": "/redoc",
        "openapi": "/api/v1/openapi.json",
        "health": "/health/ready",
        "live": "/health/live",
        "jwks": "/.well-known/jwks.json",
    }


async def test_every_link_of_the_index_answers(app: FastAPI, client: httpx2.AsyncClient) -> None:
    links: dict[str, str] = (await _index(client))["links"]

    for name, path in links.items():
        response = await client.get(path)
        assert response.status_code == 200, (name, path, response.text)
    assert links["openapi"] == app.openapi_url


async def test_the_index_is_not_a_documented_operation(client: httpx2.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]

    assert not set(INDEX_PATHS) & set(paths)


async def test_links_carry_the_root_path_the_app_is_mounted_under(app: FastAPI) -> None:
    transport = httpx2.ASGITransport(app=app, root_path="/conduit")
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/conduit/")

    assert response.status_code == 200, response.text
    links = response.json()["links"]
    assert links["docs"] == "/conduit/docs"
    assert links["openapi"] == "/conduit/api/v1/openapi.json"
    assert links["health"] == "/conduit/health/ready"
