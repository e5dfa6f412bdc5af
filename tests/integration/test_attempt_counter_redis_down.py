"""With Redis unreachable, the login attempt counter fails open instead of failing logins."""

from __future__ import annotations

import socket

from adapters.redis.attempts import RedisAttemptCounter
from entrypoints.lifespan import open_redis


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once the socket closes


async def test_a_dead_redis_neither_counts_nor_raises() -> None:
    client = open_redis(f"redis://127.0.0.1:{closed_port()}/0")
    counter = RedisAttemptCounter(client)
    try:
        assert await counter.record("k", 60) == 0
        assert await counter.status("k") == (0, 0)
        await counter.clear("k")
    finally:
        await client.aclose()
