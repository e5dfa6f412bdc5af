"""KnownAddresses contract: the in-memory adapter and the Redis adapter behave alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from adapters.memory.attempts import InMemoryKnownAddresses
from adapters.redis.attempts import RedisKnownAddresses
from core.auth.ports import KnownAddresses

DAY = 86_400


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def known(request: pytest.FixtureRequest) -> AsyncIterator[KnownAddresses]:
    if request.param == "memory":
        yield InMemoryKnownAddresses()
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    try:
        yield RedisKnownAddresses(client, prefix=request.getfixturevalue("redis_prefix"))
    finally:
        await client.aclose()


async def test_an_address_never_remembered_is_unknown(known: KnownAddresses) -> None:
    assert await known.is_known("jake", "192.0.2.1") is False


async def test_a_remembered_address_is_known(known: KnownAddresses) -> None:
    await known.remember("jake", "192.0.2.1", 30 * DAY)
    assert await known.is_known("jake", "192.0.2.1") is True


async def test_accounts_and_addresses_are_kept_apart(known: KnownAddresses) -> None:
    await known.remember("jake", "192.0.2.1", 30 * DAY)
    assert await known.is_known("jake", "192.0.2.2") is False
    assert await known.is_known("anna", "192.0.2.1") is False


async def test_an_address_is_forgotten_when_its_time_has_passed(known: KnownAddresses) -> None:
    await known.remember("jake", "192.0.2.1", 1)
    await asyncio.sleep(1.2)
    assert await known.is_known("jake", "192.0.2.1") is False


async def test_remembering_again_starts_the_time_afresh(known: KnownAddresses) -> None:
    await known.remember("jake", "192.0.2.1", 1)
    await known.remember("jake", "192.0.2.1", 30 * DAY)
    await asyncio.sleep(1.2)
    assert await known.is_known("jake", "192.0.2.1") is True


async def test_remembering_from_many_callers_at_once_keeps_each(known: KnownAddresses) -> None:
    addresses = [f"198.51.100.{i}" for i in range(20)]
    await asyncio.gather(*(known.remember("jake", a, 30 * DAY) for a in addresses))
    assert all(await asyncio.gather(*(known.is_known("jake", a) for a in addresses)))
