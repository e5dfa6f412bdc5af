"""A read or a write that timed out loses no invalidation, so it does not retire the cache;
a lost invalidation, or a dropped connection (Redis may have restarted), still does."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from adapters.redis.cache import RedisCache

pytestmark = [pytest.mark.integration, pytest.mark.redis]

DEPS = ["article:a"]


class FailsOnce:
    """Stands for one of the cache's Redis calls: raises `exc` once, then makes the real one."""

    def __init__(self, script: Any, exc: BaseException) -> None:
        self._script = script
        self._exc: BaseException | None = exc

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._exc is not None:
            exc, self._exc = self._exc, None
            raise exc
        return await self._script(*args, **kwargs)


async def cached(redis_client: Redis, redis_prefix: str) -> RedisCache:
    cache = RedisCache(redis_client, prefix=redis_prefix)
    _, stamp = await cache.read("k", DEPS)
    await cache.write("k", DEPS, stamp, b"value", ttl_s=60)
    assert (await cache.read("k", DEPS))[0] == b"value"
    return cache


async def test_a_read_that_timed_out_leaves_the_cached_values(
    redis_client: Redis, redis_prefix: str
) -> None:
    cache = await cached(redis_client, redis_prefix)
    cache._read = FailsOnce(cache._read, RedisTimeoutError("Timeout reading from redis"))

    assert (await cache.read("k", DEPS))[0] is None  # a miss, this once
    assert (await cache.read("k", DEPS))[0] == b"value"


async def test_a_write_that_timed_out_leaves_the_cached_values(
    redis_client: Redis, redis_prefix: str
) -> None:
    cache = await cached(redis_client, redis_prefix)
    _, stamp = await cache.read("other", DEPS)
    cache._write = FailsOnce(cache._write, RedisTimeoutError("Timeout connecting to server"))

    await cache.write("other", DEPS, stamp, b"other value", ttl_s=60)

    assert (await cache.read("k", DEPS))[0] == b"value"


async def test_a_dropped_connection_retires_every_value(
    redis_client: Redis, redis_prefix: str
) -> None:
    cache = await cached(redis_client, redis_prefix)
    cache._read = FailsOnce(cache._read, RedisConnectionError("Connection reset by peer"))

    assert (await cache.read("k", DEPS))[0] is None
    assert (await cache.read("k", DEPS))[0] is None  # Redis may have restarted from a snapshot


async def test_an_invalidation_that_timed_out_retires_every_value(
    redis_client: Redis, redis_prefix: str
) -> None:
    cache = await cached(redis_client, redis_prefix)
    other = RedisCache(redis_client, prefix=redis_prefix)
    _, stamp = await other.read("elsewhere", ["article:b"])
    await other.write("elsewhere", ["article:b"], stamp, b"unrelated", ttl_s=60)

    original = redis_client.pipeline
    redis_client.pipeline = lambda **_: _TimesOut()  # type: ignore[method-assign, assignment]
    try:
        await cache.invalidate(DEPS)
    finally:
        redis_client.pipeline = original  # type: ignore[method-assign]

    assert (await cache.read("k", DEPS))[0] is None
    assert (await other.read("elsewhere", ["article:b"]))[0] is None


class _TimesOut:
    async def __aenter__(self) -> _TimesOut:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    def incr(self, key: str) -> None: ...

    def expire(self, key: str, seconds: int) -> None: ...

    async def execute(self) -> None:
        raise RedisTimeoutError("Timeout reading from redis")
