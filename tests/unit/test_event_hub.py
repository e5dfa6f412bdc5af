"""EventHub: one reader of the event streams per process, fanning out to bounded subscriptions
(core/shared/live.py); ConnectionLimits."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from adapters.memory.streams import InProcessPublisher
from core.shared.live import ConnectionLimits, EventHub, Overflowed, TooManyConnections
from core.shared.outbox import JsonValue, OutboxMessage, StoredMessage, StreamEntries


def _stored(outbox_id: int, topic: str = "article:a") -> StoredMessage:
    message = OutboxMessage(topic, "comment.created", {"v": 1, "n": outbox_id})
    return StoredMessage(outbox_id, message, datetime.now(UTC))


async def test_a_subscription_gets_what_its_topics_publish_after_it_subscribed() -> None:
    publisher = InProcessPublisher()
    await publisher.publish([_stored(1)])
    hub = EventHub(publisher)
    async with (
        await hub.subscribe(["article:a"]) as first,
        await hub.subscribe(["article:a", "article:b"]) as second,
    ):
        await publisher.publish([_stored(2), _stored(3, "article:b"), _stored(4, "article:c")])

        firsts = await first.get(5)
        seconds = [*await second.get(5)]
        while len(seconds) < 2:
            seconds += await second.get(5)

    assert [i for _, i, _ in firsts] == [2]
    assert sorted(i for _, i, _ in seconds) == [2, 3]
    await hub.close()


async def test_a_subscriber_further_behind_than_its_queue_overflows() -> None:
    publisher = InProcessPublisher()
    hub = EventHub(publisher, max_queue=2)
    async with await hub.subscribe(["article:a"]) as slow:
        await asyncio.sleep(0)  # the reader waits
        await publisher.publish([_stored(i) for i in range(1, 4)])

        # The reader hands over all three at once: more than the queue holds.
        with pytest.raises(Overflowed):
            await slow.get(5)
    await hub.close()


async def test_the_reader_stops_when_the_last_subscriber_leaves() -> None:
    hub = EventHub(InProcessPublisher(), wait_s=30)
    subscription = await hub.subscribe(["article:a"])
    await asyncio.sleep(0)
    assert hub.topics == 1

    subscription.close()
    await asyncio.sleep(0.01)

    assert hub.topics == 0
    assert hub._task is not None
    assert hub._task.done()


class DownThenUp(InProcessPublisher):
    """A publisher whose streams cannot be read until `up` is set (Redis down)."""

    def __init__(self) -> None:
        super().__init__()
        self.up = False

    async def last_id(self, topic: str) -> str | None:
        if not self.up:
            raise ConnectionError("down")
        return await super().last_id(topic)

    async def wait_many(
        self, after: Mapping[str, str | None], timeout_s: float, limit: int = 100
    ) -> StreamEntries:
        if not self.up:
            raise ConnectionError("down")
        return await super().wait_many(after, timeout_s, limit)


async def test_a_topic_subscribed_while_the_streams_are_down_is_followed_once_they_are_back() -> (
    None
):
    publisher = DownThenUp()
    hub = EventHub(publisher, retry_s=0.01)
    async with await hub.subscribe(["article:a"]) as subscription:
        publisher.up = True
        for _ in range(500):  # at most 5 s until the reader placed the topic
            if "article:a" in hub._after:
                break
            await asyncio.sleep(0.01)
        await publisher.publish([_stored(1)])

        entries = await subscription.get(5)

    assert [i for _, i, _ in entries] == [1]
    await hub.close()


def test_connection_limits_cap_in_all_and_per_key_and_give_back_on_release() -> None:
    changes: list[tuple[str, int]] = []
    limits = ConnectionLimits(total=3, per_key=2, on_change=lambda k, d: changes.append((k, d)))
    a1, a2 = limits.acquire("sse", "a"), limits.acquire("ws", "a")
    with pytest.raises(TooManyConnections):
        limits.acquire("sse", "a")
    b = limits.acquire("ws").add_key("b")
    with pytest.raises(TooManyConnections):
        limits.acquire("ws", "c")  # 3 in all

    for slot in (a1, a2, b, b):  # a second release gives nothing back
        slot.release()

    assert limits.open == 0
    assert limits.acquire("sse", "a") is not None
    assert changes[:3] == [("sse", 1), ("ws", 1), ("ws", 1)]


async def test_the_in_process_streams_keep_a_bounded_number_of_entries_over_all_topics() -> None:
    # Without Redis every article's topic lived as long as the process: memory grew with writes.
    publisher = InProcessPublisher(maxlen=10, max_entries=25)
    for n in range(1, 101):  # 100 topics, one entry each, then one busy topic
        await publisher.publish([_stored(n, f"article:{n}")])
    for n in range(101, 131):
        await publisher.publish([_stored(n, "user:busy")])
    assert publisher.entries <= 25
    assert [e[1] for e in await publisher.read("user:busy")] == list(range(121, 131))  # maxlen
    assert await publisher.read("article:1") == []  # the least recently published went first
    assert [e[1] for e in await publisher.read("article:100")] == [100]  # newest kept
    await publisher.publish([_stored(131, "article:100")])  # a publish keeps a topic fresh
    await publisher.publish([_stored(132, "article:new")])
    assert [e[1] for e in await publisher.read("article:100")] == [100, 131]


def _article_published(outbox_id: int) -> StoredMessage:
    """What the relay publishes for each new article (core/shared/outbox.py), as the bench
    writes them: ~200 bytes of JSON."""
    article_id = f"01938f6e-{outbox_id:04x}-7000-8000-00000000{outbox_id:04x}"
    payload: dict[str, JsonValue] = {
        "v": 1,
        "articleId": article_id,
        "slug": f"a-title-of-five-or-six-words-{outbox_id}",
        "title": f"A Title Of Five Or Six Words {outbox_id}",
        "authorId": "01938f6e-0000-7000-8000-000000000001",
    }
    message = OutboxMessage(f"article:{article_id}", "article.published", payload)
    return StoredMessage(outbox_id, message, datetime.now(UTC))


async def test_the_in_process_streams_keep_a_bounded_number_of_bytes_over_all_topics() -> None:
    publisher = InProcessPublisher(maxlen=10, max_entries=10_000, max_bytes=20_000)
    for n in range(1, 501):
        await publisher.publish([_article_published(n)])
    assert 0 < publisher.size <= 20_000
    assert publisher.entries < 100  # the bytes bound came first
    assert await publisher.read(_article_published(1).message.topic) == []  # oldest went
    newest = await publisher.read(_article_published(500).message.topic)
    assert [(i, m.type, dict(m.payload)) for _, i, m in newest] == [
        (500, "article.published", dict(_article_published(500).message.payload))
    ]


async def test_the_bytes_counted_are_the_memory_the_streams_hold() -> None:
    """The bound is in real memory: what the entries hold (measured) is within what is
    counted against max_bytes."""
    import gc
    import tracemalloc

    messages = [_article_published(n) for n in range(1, 2001)]
    publisher = InProcessPublisher()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for stored in messages:
            await publisher.publish([stored])
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert publisher.entries == 2000  # 2,000 topics of one entry: the worst case per entry
    assert held <= publisher.size
    # The payload as right-sized JSON bytes in a list per topic: ~500 bytes a topic, where
    # the message's dicts and strings in a deque took ~1,900 (and orjson's own output 4 KiB).
    assert held < 2000 * 600
