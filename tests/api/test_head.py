"""HEAD works wherever GET does: the GET's status and headers, no body."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from loguru import logger

from tests.api.helpers import MEMORY_ONLY, Account, add_comment, publish

if TYPE_CHECKING:
    from loguru import Record

pytestmark = MEMORY_ONLY

# Headers that differ between any two requests, whatever the method.
PER_REQUEST = {"x-request-id"}
# Bodies that change between two calls (counters, timings): their length may differ too.
LIVE_BODIES = {"/metrics", "/health/ready"}
PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
# Event streams: a GET never ends by itself; a HEAD answers the stream's headers at once.
STREAMS = {"/api/articles/{slug}/events", "/api/v1/articles/{slug}/events"}


def get_paths(app: FastAPI) -> list[str]:
    """Every path template that some route of the app answers GET on."""
    paths = {
        context.path_format
        for context in iter_route_contexts(app.routes)
        if "GET" in (getattr(context, "methods", None) or ()) and context.path_format
    }
    return sorted(paths)


def fill(template: str, values: dict[str, str]) -> str:
    return PARAMETER.sub(lambda match: values[match.group(1)], template)


def comparable(response: httpx2.Response, path: str) -> dict[str, str]:
    skip = PER_REQUEST | ({"content-length"} if path in LIVE_BODIES else set())
    return {k: v for k, v in response.headers.items() if k not in skip}


@pytest.fixture
def records() -> Iterator[list[Record]]:
    captured: list[Record] = []
    sink = logger.add(lambda message: captured.append(message.record), level="DEBUG")
    yield captured
    logger.remove(sink)


async def test_head_answers_like_get_on_every_get_route(
    app: FastAPI, client: httpx2.AsyncClient, jake: Account
) -> None:
    article = await publish(client, jake, tags=["dragons"])
    await add_comment(client, jake, article["slug"])
    values = {"slug": article["slug"], "username": jake.username}
    # Media (issue 14): no such upload or image here, so both answer 404 alike.
    values |= {"upload_id": "0193a1f0-7c2e-7d4b-9a51-3e2f1c0b9d8a", "name": "0" * 64 + ".webp"}
    values["provider"] = "acme"  # issue 15: OpenID Connect routes (none configured here: 404)
    values["webhook_id"] = "0b5e7bfc-6f83-4a55-9f0a-8b2f0f4f9a51"  # none: 404 to both
    paths = get_paths(app)

    for template in paths:
        url = fill(template, values)
        if template in STREAMS:
            head = await client.head(url, headers=jake.auth)
            assert (head.status_code, head.content) == (200, b""), url
            assert head.headers["content-type"].startswith("text/event-stream"), url
            continue
        got = await client.get(url, headers=jake.auth)
        head = await client.head(url, headers=jake.auth)

        assert head.status_code == got.status_code, (url, got.text)
        assert head.content == b"", url
        assert comparable(head, template) == comparable(got, template), url
    # The walk covers the API under both prefixes, the probes, the docs and the index.
    assert {"/api/articles/{slug}", "/api/v1/tags", "/health/live", "/docs", "/"} <= set(paths)
    assert set(paths) >= STREAMS


async def test_head_gives_the_length_get_would_send(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    slug = (await publish(client, jake))["slug"]

    got = await client.get(f"/api/articles/{slug}")
    head = await client.head(f"/api/articles/{slug}")

    assert head.status_code == 200
    assert int(head.headers["content-length"]) == len(got.content) > 0
    assert head.headers["etag"] == got.headers["etag"]


async def test_head_with_a_current_etag_is_304_like_get(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    slug = (await publish(client, jake))["slug"]
    etag = (await client.get(f"/api/articles/{slug}")).headers["etag"]

    head = await client.head(f"/api/articles/{slug}", headers={"If-None-Match": etag})

    assert head.status_code == 304
    assert head.headers["etag"] == etag
    assert head.content == b""


async def test_head_of_a_gzipped_answer_names_the_encoding_and_length(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    for i in range(10):
        await publish(client, jake, f"Article number {i}", body="x" * 500)
    gzip = {"Accept-Encoding": "gzip"}

    got = await client.get("/api/articles", headers=gzip)
    head = await client.head("/api/articles", headers=gzip)

    assert got.headers["content-encoding"] == head.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.content == b""


async def test_head_where_there_is_no_get_is_405_naming_the_methods(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.head("/api/users")

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.content == b""


async def test_allow_names_head_next_to_get(client: httpx2.AsyncClient) -> None:
    response = await client.patch("/api/articles")

    assert response.status_code == 405
    assert [m.strip() for m in response.headers["allow"].split(",")] == ["GET", "HEAD", "POST"]


async def test_a_head_is_logged_as_head_on_its_route(
    client: httpx2.AsyncClient, records: list[Record]
) -> None:
    response = await client.head("/api/tags")

    assert response.status_code == 200
    access = [r["extra"] for r in records if r["extra"].get("method") == "HEAD"]
    assert [(line["route"], line["status"]) for line in access] == [("/api/tags", 200)]
