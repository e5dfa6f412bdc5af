"""OneTimeStore contract (core/identities/ports.py): pending sign-ins and one-time codes on
memory, SQLite, Postgres (the storage backends' store) and Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from adapters.redis.one_time import RedisOneTimeStore
from core.identities.ports import OneTimeStore
from tests.builders import WHEN
from tests.infra import open_storage, setup_for, storage_params

TTL = timedelta(seconds=60)


@pytest.fixture(params=[*storage_params(), pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OneTimeStore]:
    if request.param != "redis":  # a storage backend's own store
        postgres = setup_for(request.param).postgres
        url = request.getfixturevalue("pg_url") if postgres else None
        async with open_storage(request.param, tmp_dir=str(tmp_path), pg_url=url) as storage:
            yield storage.infra.storage.adapters(listeners=()).one_time
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    try:
        yield RedisOneTimeStore(client, prefix=request.getfixturevalue("redis_prefix"))
    finally:
        await client.aclose()


async def test_a_value_is_taken_once(store: OneTimeStore) -> None:
    await store.put("k", '{"a": 1}', ttl=TTL, now=WHEN)

    assert await store.take("k", now=WHEN + timedelta(seconds=1)) == '{"a": 1}'
    assert await store.take("k", now=WHEN + timedelta(seconds=2)) is None


async def test_an_unknown_key_gives_nothing(store: OneTimeStore) -> None:
    assert await store.take("never-put", now=WHEN) is None


async def test_keys_are_apart(store: OneTimeStore) -> None:
    await store.put("a", "one", ttl=TTL, now=WHEN)
    await store.put("b", "two", ttl=TTL, now=WHEN)

    assert await store.take("b", now=WHEN) == "two"
    assert await store.take("a", now=WHEN) == "one"


async def test_of_concurrent_takes_exactly_one_gets_the_value(store: OneTimeStore) -> None:
    await store.put("race", "prize", ttl=TTL, now=WHEN)

    results = await asyncio.gather(*(store.take("race", now=WHEN) for _ in range(8)))

    assert results.count("prize") == 1
    assert results.count(None) == 7


async def test_an_expired_value_is_gone(
    store: OneTimeStore, request: pytest.FixtureRequest
) -> None:
    if request.node.callspec.params["store"] == "redis":
        # Redis expires keys by its own clock: a short real ttl, waited out (bounded).
        await store.put("old", "v", ttl=timedelta(milliseconds=50), now=WHEN)
        for _ in range(50):
            await asyncio.sleep(0.02)
            if await store.take("old", now=WHEN) is None:
                return
        pytest.fail("the value outlived its ttl")
    await store.put("old", "v", ttl=TTL, now=WHEN)

    assert await store.take("old", now=WHEN + TTL) is None
