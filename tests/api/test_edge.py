"""The headers EdgeMiddleware adds to every response, read and written in one pass
(issue 10): each present once, never duplicated, never overriding what a response set
itself, `Vary` merged, and the response's own header list left as it was."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx2
from fastapi import FastAPI

from entrypoints.http.middleware import (
    GZIP_MINIMUM_BYTES,
    EdgeMiddleware,
    ErrorSchemaCORSMiddleware,
    GZipWhenAccepted,
    cors_options,
)
from entrypoints.http.observability import RouteTemplates
from entrypoints.settings import Settings
from tests.api.helpers import publish, register
from tests.apps import memory_app as make_app

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

# One list shared by every response of the app below, as a pre-rendered response would.
SHARED_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", b"2"),
    (b"x-request-id", b"set-by-the-app"),
    (b"content-security-policy", b"sandbox"),
    (b"vary", b"Authorization"),
]


async def fixed_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": SHARED_HEADERS})
    await send({"type": "http.response.body", "body": b"{}"})


def edge_over(app: object) -> httpx2.AsyncClient:
    settings = Settings(environment="test", database_url="memory://")
    edge = EdgeMiddleware(
        GZipWhenAccepted(app, minimum_size=GZIP_MINIMUM_BYTES),  # type: ignore[arg-type]
        cors=ErrorSchemaCORSMiddleware(fixed_app, **cors_options(settings)),
        max_body_bytes=1_000,
        templates=RouteTemplates(FastAPI()),
        rate_limit_headers=False,
        gzip_minimum_bytes=GZIP_MINIMUM_BYTES,
    )
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=edge), base_url="http://t")


def names(response: httpx2.Response) -> list[str]:
    return [name.decode().lower() for name, _ in response.headers.raw]


async def test_a_response_s_own_headers_are_kept_and_its_header_list_left_alone() -> None:
    before = list(SHARED_HEADERS)
    async with edge_over(fixed_app) as http:
        first = await http.get("/", headers={"Accept-Encoding": "identity"})
        second = await http.get("/", headers={"Accept-Encoding": "identity"})

    assert before == SHARED_HEADERS  # the shared list was copied, never extended
    for response in (first, second):
        assert sorted(names(response)) == sorted(
            [
                "content-type",
                "content-length",
                "content-security-policy",
                "vary",
                "x-content-type-options",
                "referrer-policy",
                "x-frame-options",
                "x-request-id",
            ]
        )
        assert response.headers["content-security-policy"] == "sandbox"  # the app's own
        assert response.headers["vary"] == "Authorization, Origin"  # 2 bytes: no encoding
        assert response.headers["x-request-id"] != "set-by-the-app"
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_vary_names_accept_encoding_when_the_body_could_be_compressed() -> None:
    identity, gzip = {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip"}
    origin = {"Origin": "https://a.example"}
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=make_app(cors_origins="https://a.example")),
        base_url="http://test",
    ) as http:
        jake = await register(http, "jake")
        for i in range(10):
            await publish(http, jake, f"Article number {i}", description="d" * 200)

        large = await http.get("/api/articles", headers=identity)
        small = await http.get("/api/tags", headers=identity)
        compressed = await http.get("/api/articles", headers=gzip)
        cross_origin = await http.get("/api/articles", headers={**identity, **origin})

    assert int(large.headers["content-length"]) >= GZIP_MINIMUM_BYTES
    assert "content-encoding" not in large.headers
    assert large.headers.get_list("vary") == ["Accept-Encoding, Origin"]
    assert small.headers.get_list("vary") == ["Origin"]
    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.headers.get_list("vary") == ["Accept-Encoding, Origin"]
    vary = {v.strip() for v in cross_origin.headers["vary"].split(",")}
    assert vary == {"Accept-Encoding", "Origin"}
    for response in (large, small, compressed, cross_origin):
        assert names(response).count("x-request-id") == 1
        assert names(response).count("x-content-type-options") == 1
        assert names(response).count("content-security-policy") == 1
