"""The Redis client's pool (adapters/redis/pool.py, entrypoints.lifespan.open_redis): opening a
connection has its own, longer timeout than a reply; a hung Redis still costs a command about
the reply timeout; connections are opened ahead; a command that finds every connection busy
waits about a reply's time and fails as a timeout, not as a dropped connection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from adapters.redis.pool import CappedConnectionPool, open_ahead
from entrypoints.lifespan import open_redis

pytestmark = [pytest.mark.integration, pytest.mark.redis]

REPLY_TIMEOUT_S = 0.05  # REDIS_TIMEOUT_MS's default
SLOW_CONNECT_S = 0.08  # longer than a reply may take, well within REDIS_CONNECT_TIMEOUT_MS


class SlowResolver(ThreadPoolExecutor):
    """The loop's default executor, where asyncio resolves host names: every call first waits
    `delay_s`, so opening a connection to `localhost` takes that long (a slow DNS, or a
    connect that completes while the event loop is busy elsewhere)."""

    def __init__(self, delay_s: float) -> None:
        super().__init__(max_workers=2)
        self._delay_s = delay_s

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def slowly() -> Any:
            time.sleep(self._delay_s)
            return fn(*args, **kwargs)

        return super().submit(slowly)


@pytest.fixture
def by_name(redis_url: str) -> str:
    """The test Redis under the name `localhost`, which asyncio resolves in the executor."""
    parts = urlsplit(redis_url)
    assert parts.hostname in ("127.0.0.1", "localhost"), "the test Redis is local"
    return parts._replace(netloc=f"localhost:{parts.port or 6379}").geturl()


@pytest.fixture
async def slow_connects() -> AsyncIterator[None]:
    resolver = SlowResolver(SLOW_CONNECT_S)
    asyncio.get_running_loop().set_default_executor(resolver)
    yield
    resolver.shutdown(wait=True)


async def test_a_connect_slower_than_a_reply_may_take_still_succeeds(
    by_name: str, slow_connects: None
) -> None:
    client = open_redis(by_name, timeout_s=REPLY_TIMEOUT_S, connect_timeout_s=1.0)
    try:
        assert await client.ping() is True
    finally:
        await client.aclose()


async def test_a_connect_slower_than_its_own_timeout_fails(
    by_name: str, slow_connects: None
) -> None:
    """The counterpart of the test above: the slow connect is what it measures."""
    client = open_redis(by_name, timeout_s=REPLY_TIMEOUT_S, connect_timeout_s=REPLY_TIMEOUT_S)
    try:
        with pytest.raises(RedisTimeoutError, match="Timeout connecting"):
            await client.ping()
    finally:
        await client.aclose()


async def test_a_hung_redis_costs_the_reply_timeout_not_the_connect_timeout(
    silent_port: int,
) -> None:
    connect_timeout_s = 5.0
    client = open_redis(
        f"redis://127.0.0.1:{silent_port}/0",
        timeout_s=REPLY_TIMEOUT_S,
        connect_timeout_s=connect_timeout_s,
    )
    started = time.monotonic()
    try:
        with pytest.raises(RedisTimeoutError):
            await client.ping()
    finally:
        await client.aclose()
    assert time.monotonic() - started < connect_timeout_s / 2


async def test_every_connection_is_opened_ahead(redis_url: str) -> None:
    client = open_redis(redis_url, max_connections=4)
    pool = client.connection_pool
    assert isinstance(pool, CappedConnectionPool)
    try:
        assert await open_ahead(pool) == 4
        assert len(pool._available_connections) == 4
        assert await client.ping() is True
        assert len(pool._available_connections) == 4  # no new connection for a command
    finally:
        await client.aclose()


async def test_opening_ahead_a_redis_that_is_down_is_not_fatal(silent_port: int) -> None:
    client = open_redis(f"redis://127.0.0.1:{silent_port}/0", timeout_s=0.02, max_connections=2)
    assert isinstance(client.connection_pool, CappedConnectionPool)
    try:
        assert await open_ahead(client.connection_pool) == 0
    finally:
        await client.aclose()


async def test_a_command_that_finds_every_connection_busy_times_out(redis_url: str) -> None:
    """A timeout, not a ConnectionError: the cache takes a dropped connection for a restarted
    Redis and retires every value (adapters/redis/cache.py)."""
    client = open_redis(redis_url, timeout_s=REPLY_TIMEOUT_S, max_connections=1)
    pool = client.connection_pool
    busy = await pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        with pytest.raises(RedisTimeoutError) as raised:
            await client.ping()
        assert not isinstance(raised.value, RedisConnectionError)
    finally:
        await pool.release(busy)
    try:
        assert await client.ping() is True  # free again
    finally:
        await client.aclose()
