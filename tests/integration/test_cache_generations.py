"""Redis generation counters expire, so they do not pile up, and never revive a stale value."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from adapters.redis.cache import GENERATION_TTL_S, RedisCache

pytestmark = [pytest.mark.integration, pytest.mark.redis]

DEPS = ["article:some-slug"]


async def test_an_invalidated_generation_expires_after_its_ttl(
    redis_client: Redis, redis_prefix: str
) -> None:
    cache = RedisCache(redis_client, prefix=redis_prefix, generation_ttl_s=600)

    await cache.invalidate(DEPS)
    await cache.invalidate(DEPS)  # each increment renews it

    ttl = await redis_client.ttl(f"{redis_prefix}cache:gen:{DEPS[0]}")
    assert 0 < ttl <= 600
    assert await redis_client.get(f"{redis_prefix}cache:gen:{DEPS[0]}") == b"2"


async def test_a_value_never_outlives_half_a_generation(
    redis_client: Redis, redis_prefix: str
) -> None:
    cache = RedisCache(redis_client, prefix=redis_prefix, generation_ttl_s=600)
    _, stamp = await cache.read("k", DEPS)

    await cache.write("k", DEPS, stamp, b"v", ttl_s=86_400)

    assert 0 < await redis_client.ttl(f"{redis_prefix}cache:entry:k") <= 300


async def test_a_generation_gone_back_to_zero_does_not_revive_a_later_value(
    redis_client: Redis, redis_prefix: str
) -> None:
    cache = RedisCache(redis_client, prefix=redis_prefix)
    await cache.invalidate(DEPS)  # generation 1
    _, stamp = await cache.read("k", DEPS)
    await cache.write("k", DEPS, stamp, b"computed at generation 1", ttl_s=60)
    assert (await cache.read("k", DEPS))[0] == b"computed at generation 1"

    await redis_client.delete(f"{redis_prefix}cache:gen:{DEPS[0]}")  # as if it expired

    assert (await cache.read("k", DEPS))[0] is None


def test_generations_outlive_the_longest_value_ttl() -> None:
    assert GENERATION_TTL_S // 2 >= 86_400  # CACHE_TTL_S is at most a day (settings)


async def test_a_value_read_again_is_the_same_bytes_object(
    redis_client: Redis, redis_prefix: str
) -> None:
    cache = RedisCache(redis_client, prefix=redis_prefix)
    _, stamp = await cache.read("k", DEPS)
    await cache.write("k", DEPS, stamp, b"v" * 1000, ttl_s=60)

    first, _ = await cache.read("k", DEPS)
    again, _ = await cache.read("k", DEPS)

    assert first == b"v" * 1000
    assert again is first  # the decoded views are keyed by it: no hashing of the bytes again


@pytest.mark.parametrize(
    "stored", [b"", b"0.0", b"0.0|", b"0.0|short|value", b"0.0|" + b"a" * 32 + b"value", b"1.0|x"]
)
async def test_an_entry_not_in_the_cache_s_format_reads_as_a_miss(
    redis_client: Redis, redis_prefix: str, stored: bytes
) -> None:
    cache = RedisCache(redis_client, prefix=redis_prefix)
    await redis_client.set(f"{redis_prefix}cache:entry:k", stored)

    assert (await cache.read("k", DEPS))[0] is None
