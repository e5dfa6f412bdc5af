"""The Redis connection pool: capped, opened ahead, and a wait for a free connection bounded.

Under load redis-py's default pool opened a new connection whenever every pooled one was
busy, in the middle of a request: with 64 requests in flight on a busy machine, event-loop lag
made some of those connects miss their short timeout ("Timeout connecting to server", 56 in one
bench pass), and each counted towards the circuit breaker. A capped pool whose connections are
opened at start (`open_ahead`) does not connect under load, except to replace a dropped one;
a command that finds every connection busy waits for one, for as long as it would wait for a
reply.
"""

from __future__ import annotations

import asyncio
from typing import Any

from loguru import logger
from redis.asyncio import BlockingConnectionPool, ConnectionPool
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError


class CappedConnectionPool(BlockingConnectionPool):
    """BlockingConnectionPool (at most `max_connections`; a command waits up to `timeout`
    seconds for a free one) whose wait, when it runs out, raises redis-py's TimeoutError.

    redis-py raises ConnectionError("No connection available."), which reads as a dropped
    connection: the cache would take it for a restarted Redis and retire every value
    (adapters/redis/cache.py). Every connection being busy means Redis, or this process, is
    slow to answer: a timeout, which the breaker counts like any other.
    """

    async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        try:
            waiting = super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]
            connection: AbstractConnection = await waiting
        except RedisConnectionError as exc:
            if isinstance(exc.__cause__, TimeoutError):  # asyncio's, from the pool's wait
                raise RedisTimeoutError(
                    f"no free Redis connection within {self.timeout:g} s"
                ) from exc
            raise
        return connection


async def open_ahead(pool: ConnectionPool) -> int:
    """Opens every connection the pool may hold and puts them back; how many opened.

    A Redis down or hung at start is not fatal (the breaker handles it once requests come):
    what could not be opened is logged and opened later, on demand.
    """
    opened: list[AbstractConnection] = []

    async def one() -> None:
        opened.append(await pool.get_connection())  # type: ignore[no-untyped-call]

    results = await asyncio.gather(
        *(one() for _ in range(pool.max_connections)), return_exceptions=True
    )
    for connection in opened:
        await pool.release(connection)
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures:
        if not isinstance(failure, (RedisError, OSError)):
            raise failure  # a bug or a cancellation, not Redis
    if failures:
        logger.warning(
            "redis: opened {} of {} connections ahead ({}); the rest open on demand",
            len(opened),
            pool.max_connections,
            failures[0],
        )
    return len(opened)
