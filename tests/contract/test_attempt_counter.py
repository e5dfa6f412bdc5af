"""AttemptCounter contract: the in-memory adapter and the Redis adapter behave alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from adapters.memory.attempts import InMemoryAttemptCounter
from adapters.redis.attempts import RedisAttemptCounter
from core.auth.ports import AttemptCounter


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def counter(request: pytest.FixtureRequest) -> AsyncIterator[AttemptCounter]:
    if request.param == "memory":
        yield InMemoryAttemptCounter()
        return
    # Sync fixtures only from inside an async one: build the client here.
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    try:
        yield RedisAttemptCounter(client, prefix=request.getfixturevalue("redis_prefix"))
    finally:
        await client.aclose()


async def test_an_unknown_key_has_no_failures(counter: AttemptCounter) -> None:
    assert await counter.status(["nobody"]) == [(0, 0)]


async def test_failures_add_up_within_the_window(counter: AttemptCounter) -> None:
    assert await counter.record([("k", 60)]) == [1]
    assert await counter.record([("k", 60)]) == [2]
    [(count, retry_after)] = await counter.status(["k"])
    assert count == 2
    assert 1 <= retry_after <= 60


async def test_one_record_counts_every_key_given_in_its_own_window(
    counter: AttemptCounter,
) -> None:
    await counter.record([("b", 60)])
    assert await counter.record([("a", 60), ("b", 3600), ("c", 600)]) == [1, 2, 1]
    statuses = await counter.status(["a", "b", "c", "nobody"])
    assert [count for count, _ in statuses] == [1, 2, 1, 0]
    (_, a_left), (_, b_left), (_, c_left), (_, nobody_left) = statuses
    assert 1 <= a_left <= 60
    assert 1 <= b_left <= 60  # b's window started with its first failure
    assert 60 < c_left <= 600
    assert nobody_left == 0


async def test_status_answers_in_the_order_asked(counter: AttemptCounter) -> None:
    await counter.record([("a", 60), ("b", 60), ("b", 60)])
    assert [count for count, _ in await counter.status(["b", "a"])] == [2, 1]


async def test_nothing_asked_answers_nothing(counter: AttemptCounter) -> None:
    assert await counter.record([]) == []
    assert await counter.status([]) == []


async def test_keys_are_counted_apart(counter: AttemptCounter) -> None:
    await counter.record([("a", 60)])
    assert await counter.status(["b"]) == [(0, 0)]


async def test_clear_forgets_a_key_and_only_that_key(counter: AttemptCounter) -> None:
    await counter.record([("k", 60), ("other", 60)])
    await counter.clear("k")
    assert [count for count, _ in await counter.status(["k", "other"])] == [0, 1]


async def test_the_window_ends_and_counting_starts_over(counter: AttemptCounter) -> None:
    await counter.record([("k", 1)])
    await asyncio.sleep(1.2)
    assert await counter.status(["k"]) == [(0, 0)]
    assert await counter.record([("k", 1)]) == [1]


async def test_later_failures_do_not_extend_the_window(counter: AttemptCounter) -> None:
    await counter.record([("k", 2)])
    await asyncio.sleep(1.1)
    await counter.record([("k", 60)])
    [(_, retry_after)] = await counter.status(["k"])
    assert retry_after <= 1


async def test_concurrent_failures_are_all_counted(counter: AttemptCounter) -> None:
    await asyncio.gather(*(counter.record([("k", 60), ("j", 60)]) for _ in range(50)))
    assert [count for count, _ in await counter.status(["k", "j"])] == [50, 50]
