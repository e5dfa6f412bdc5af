"""EventPublisher contract: in process and Redis Streams (core/shared/outbox.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from adapters.memory.streams import InProcessPublisher
from adapters.redis.streams import RedisStreamPublisher
from core.shared.outbox import EventPublisher, OutboxMessage, StoredMessage

MAXLEN = 10


@pytest.fixture(params=["in-process", pytest.param("redis", marks=pytest.mark.redis)])
async def publisher(request: pytest.FixtureRequest) -> AsyncIterator[EventPublisher]:
    if request.param == "in-process":
        yield InProcessPublisher(maxlen=MAXLEN)
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    try:
        prefix = request.getfixturevalue("redis_prefix")
        yield RedisStreamPublisher(client, prefix=prefix, maxlen=MAXLEN)
    finally:
        await client.aclose()


def _stored(outbox_id: int, topic: str = "article:a", n: int | None = None) -> StoredMessage:
    payload = {"v": 1, "n": outbox_id if n is None else n}
    return StoredMessage(
        outbox_id, OutboxMessage(topic, "comment.created", payload), datetime.now(UTC)
    )


async def test_a_topic_reads_back_what_was_published_in_order(publisher: EventPublisher) -> None:
    await publisher.publish([_stored(1), _stored(2, "article:b"), _stored(3)])

    entries = await publisher.read("article:a")

    assert [(outbox_id, m.type, dict(m.payload)) for _, outbox_id, m in entries] == [
        (1, "comment.created", {"v": 1, "n": 1}),
        (3, "comment.created", {"v": 1, "n": 3}),
    ]
    assert [outbox_id for _, outbox_id, _ in await publisher.read("article:b")] == [2]
    assert await publisher.read("article:nothing") == []


async def test_reading_after_an_entry_gives_only_later_ones(publisher: EventPublisher) -> None:
    await publisher.publish([_stored(i) for i in range(1, 6)])
    first_two = await publisher.read("article:a", limit=2)

    rest = await publisher.read("article:a", after=first_two[-1][0])

    assert [outbox_id for _, outbox_id, _ in first_two] == [1, 2]
    assert [outbox_id for _, outbox_id, _ in rest] == [3, 4, 5]


async def test_publishing_a_message_again_adds_nothing(publisher: EventPublisher) -> None:
    await publisher.publish([_stored(1), _stored(2)])

    await publisher.publish([_stored(2), _stored(3)])  # a relay that died before marking sent

    assert [i for _, i, _ in await publisher.read("article:a")] == [1, 2, 3]


async def test_a_stream_keeps_about_its_maximum_length(publisher: EventPublisher) -> None:
    await publisher.publish([_stored(i) for i in range(1, 501)])

    entries = await publisher.read("article:a", limit=1000)

    # MAXLEN ~ trims whole nodes: at least the newest MAXLEN stay, far fewer than 500.
    assert MAXLEN <= len(entries) < 200
    assert entries[-1][1] == 500


async def test_last_id_is_the_newest_entry_where_a_new_reader_starts(
    publisher: EventPublisher,
) -> None:
    empty = await publisher.last_id("article:a")
    await publisher.publish([_stored(1), _stored(2)])

    last = await publisher.last_id("article:a")

    assert empty is None
    assert await publisher.read("article:a", after=last) == []
    assert [i for _, i, _ in await publisher.read("article:a")][-1] == 2


async def test_wait_answers_what_is_there_or_nothing_after_its_timeout(
    publisher: EventPublisher,
) -> None:
    await publisher.publish([_stored(1)])

    there = await publisher.wait("article:a", None, timeout_s=5)
    nothing = await publisher.wait("article:a", there[-1][0], timeout_s=0.05)

    assert [i for _, i, _ in there] == [1]
    assert nothing == []


async def test_wait_wakes_for_an_entry_published_meanwhile(publisher: EventPublisher) -> None:
    await publisher.publish([_stored(1)])
    after = await publisher.last_id("article:a")
    waiting = asyncio.create_task(publisher.wait("article:a", after, timeout_s=30))
    await asyncio.sleep(0)  # the waiter found nothing and waits

    await publisher.publish([_stored(2, "article:b"), _stored(3)])
    woken = await waiting

    assert [i for _, i, _ in woken] == [3]


async def test_wait_many_answers_each_topic_after_its_own_position(
    publisher: EventPublisher,
) -> None:
    await publisher.publish([_stored(1), _stored(2, "article:b"), _stored(3), _stored(4, "user:u")])
    first = (await publisher.read("article:a", limit=1))[0][0]

    entries = await publisher.wait_many(
        {"article:a": first, "article:b": None, "article:none": None}, timeout_s=5
    )

    assert sorted((m.topic, i) for _, i, m in entries) == [("article:a", 3), ("article:b", 2)]


async def test_wait_many_wakes_for_any_of_its_topics_or_answers_nothing(
    publisher: EventPublisher,
) -> None:
    nothing = await publisher.wait_many({"article:a": None}, timeout_s=0.05)
    waiting = asyncio.create_task(
        publisher.wait_many({"article:a": None, "article:b": None}, timeout_s=30)
    )
    await asyncio.sleep(0)

    await publisher.publish([_stored(1, "article:c"), _stored(2, "article:b")])
    woken = await waiting

    assert nothing == []
    assert [(m.topic, i, dict(m.payload)) for _, i, m in woken] == [
        ("article:b", 2, {"v": 1, "n": 2})
    ]
