"""GET /api/articles/{slug}/events: Server-Sent Events of an article's changes, replayed from
the stream with Last-Event-ID (the stream ends at article.deleted or its maximum lifetime)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx2
import punq
import pytest

from adapters.memory.streams import InProcessPublisher
from core.articles.live import ARTICLE_EVENT_TYPES
from core.shared.outbox import EventPublisher, OutboxMessage, RelayOutbox, StoredMessage
from entrypoints.container import build_container
from entrypoints.settings import Settings
from tests.api.helpers import (
    COMMENT_KEYS,
    MEMORY_ONLY,
    add_comment,
    assert_error,
    favorite,
    publish,
    register,
)
from tests.fakes.clock import TickingClock
from tests.infra import Storage


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    # A stream that is quiet ends soon (its maximum lifetime), with a heartbeat before.
    update = {"sse_heartbeat_s": 0.05, "sse_max_lifetime_s": 0.3}
    return settings.model_copy(update=update | getattr(request, "param", {}))


async def relay(container: punq.Container) -> None:
    relay_: RelayOutbox[Any] = container.resolve(RelayOutbox)
    await relay_.drain()


def parse(stream: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The events (event, id, data as JSON) and the comment lines of an event stream."""
    events, comments = [], []
    for block in stream.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            if line.startswith(":"):
                comments.append(line[1:].strip())
            elif ": " in line:
                name, value = line.split(": ", 1)
                fields[name] = json.loads(value) if name == "data" else value
        if "event" in fields:
            events.append(fields)
    return events, comments


class WatchedPublisher:
    """The container's publisher, telling when the process's event hub (core/shared/live.py)
    started waiting for events of an open stream."""

    def __init__(self, inner: EventPublisher) -> None:
        self._inner, self.waiting = inner, asyncio.Event()

    async def publish(self, messages: Sequence[StoredMessage]) -> None:
        await self._inner.publish(messages)

    async def read(
        self, topic: str, after: str | None = None, limit: int = 100
    ) -> list[tuple[str, int, OutboxMessage]]:
        return await self._inner.read(topic, after, limit)

    async def last_id(self, topic: str) -> str | None:
        return await self._inner.last_id(topic)

    async def wait(
        self, topic: str, after: str | None, timeout_s: float, limit: int = 100
    ) -> list[tuple[str, int, OutboxMessage]]:
        return await self._inner.wait(topic, after, timeout_s, limit)

    async def wait_many(
        self, after: Mapping[str, str | None], timeout_s: float, limit: int = 100
    ) -> list[tuple[str, int, OutboxMessage]]:
        self.waiting.set()  # the process's reader follows the topics of its open streams
        return await self._inner.wait_many(after, timeout_s, limit)


@pytest.fixture
def publisher() -> WatchedPublisher:
    return WatchedPublisher(InProcessPublisher())


@pytest.fixture
def container(
    settings: Settings, storage: Storage, clock: TickingClock, publisher: WatchedPublisher
) -> punq.Container:
    return build_container(settings, storage.infra, clock=clock, publisher=publisher)


@pytest.mark.parametrize("settings", [{"sse_max_lifetime_s": 30}], indirect=True)
async def test_a_client_gets_every_change_it_missed_then_live_ones_until_the_deletion(
    client: httpx2.AsyncClient, container: punq.Container, publisher: WatchedPublisher
) -> None:
    author, fan = await register(client, "author"), await register(client, "fan")
    article = await publish(client, author, "Dragons")
    slug = article["slug"]
    comment = await add_comment(client, fan, slug, "Nice")
    await relay(container)  # missed by the client: replayed from the stream

    stream = asyncio.create_task(
        client.get(f"/api/articles/{slug}/events", headers={"Last-Event-ID": "0-0"})
    )
    await publisher.waiting.wait()  # the stream is open and waits for events
    edited = await client.put(
        f"/api/articles/{slug}", json={"article": {"title": "Wyverns"}}, headers=author.auth
    )
    new_slug = edited.json()["article"]["slug"]  # the stream follows the article, not the slug
    await favorite(client, fan, new_slug)
    await client.delete(f"/api/articles/{new_slug}/comments/{comment['id']}", headers=fan.auth)
    await client.delete(f"/api/articles/{new_slug}", headers=author.auth)
    await relay(container)
    response = await stream

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["cache-control"] == "no-cache"
    events, _ = parse(response.text)
    assert [e["event"] for e in events] == [
        "comment.created",
        "article.updated",
        "article.favorited",
        "comment.deleted",
        "article.deleted",
    ]
    created, updated, favorited, deleted, gone = (e["data"] for e in events)
    assert all(d["v"] == 1 for d in (created, updated, favorited, deleted, gone))
    assert created["commentId"] == comment["id"]
    assert created["comment"]["body"] == "Nice"  # (looked up live: before its deletion)
    assert (updated["slug"], updated["title"]) == (new_slug, "Wyverns")
    # The count when the stream read the event: the article was deleted by then.
    assert (favorited["slug"], favorited["favoritesCount"]) == (new_slug, None)
    assert deleted["commentId"] == comment["id"]
    assert gone["slug"] == new_slug
    ids = [e["id"] for e in events]
    assert len(set(ids)) == len(ids)


async def test_resuming_after_an_event_gives_only_later_ones(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    author, fan = await register(client, "author"), await register(client, "fan")
    slug = (await publish(client, author, "Dragons"))["slug"]
    first = await add_comment(client, fan, slug, "first")
    await add_comment(client, fan, slug, "second")
    await favorite(client, fan, slug)
    await relay(container)
    everything, _ = parse(
        (await client.get(f"/api/articles/{slug}/events", headers={"Last-Event-ID": "0-0"})).text
    )

    response = await client.get(
        f"/api/articles/{slug}/events", headers={"Last-Event-ID": everything[0]["id"]}
    )

    events, comments = parse(response.text)
    assert everything[0]["data"]["commentId"] == first["id"]
    assert [e["event"] for e in events] == ["comment.created", "article.favorited"]
    second = events[0]["data"]["comment"]
    assert set(second) == COMMENT_KEYS
    assert (second["body"], second["author"]["username"]) == ("second", "fan")
    assert events[1]["data"]["favoritesCount"] == 1
    assert "heartbeat" in comments  # quiet until the stream's lifetime ran out


async def test_a_new_client_starts_from_now(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    author = await register(client, "author")
    slug = (await publish(client, author, "Dragons"))["slug"]
    await add_comment(client, author, slug, "before")
    await relay(container)

    response = await client.get(f"/api/articles/{slug}/events")

    assert response.status_code == 200
    assert parse(response.text)[0] == []


@MEMORY_ONLY
async def test_an_unknown_slug_is_404_before_streaming(client: httpx2.AsyncClient) -> None:
    response = await client.get("/api/articles/nothing-here/events")

    assert_error(response, 404, "body")
    assert response.headers["content-type"].startswith("application/json")


@MEMORY_ONLY
async def test_a_malformed_last_event_id_is_422(client: httpx2.AsyncClient) -> None:
    author = await register(client, "author")
    slug = (await publish(client, author, "Dragons"))["slug"]

    response = await client.get(
        f"/api/articles/{slug}/events", headers={"Last-Event-ID": "yesterday"}
    )

    assert_error(response, 422, "Last-Event-ID")


def test_the_openapi_document_lists_every_event_type_and_its_data(app: Any) -> None:
    document = app.openapi()
    operation = document["paths"]["/api/v1/articles/{slug}/events"]["get"]
    media = operation["responses"]["200"]["content"]["text/event-stream"]
    item = document["components"]["schemas"]["ArticleEventItem"]

    assert media["schema"] == {"$ref": "#/components/schemas/ArticleEventItem"}
    assert tuple(item["properties"]["event"]["enum"]) == ARTICLE_EVENT_TYPES
    data = {ref["$ref"].rsplit("/", 1)[1] for ref in item["properties"]["data"]["anyOf"]}
    assert len(data) == len(ARTICLE_EVENT_TYPES)
    assert all("v" in document["components"]["schemas"][name]["properties"] for name in data)
