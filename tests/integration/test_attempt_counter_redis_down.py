"""With Redis unreachable, the login limits fail open instead of failing logins."""

from __future__ import annotations

import socket

from adapters.redis.attempts import RedisAttemptCounter, RedisKnownAddresses
from entrypoints.lifespan import open_redis


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once the socket closes


async def test_a_dead_redis_neither_counts_nor_raises() -> None:
    client = open_redis(f"redis://127.0.0.1:{closed_port()}/0")
    counter = RedisAttemptCounter(client)
    try:
        assert await counter.record([("k", 60), ("j", 60)]) == [0, 0]
        assert await counter.status(["k", "j"]) == [(0, 0), (0, 0)]
        await counter.clear("k")
    finally:
        await client.aclose()


async def test_a_dead_redis_takes_every_address_as_known() -> None:
    client = open_redis(f"redis://127.0.0.1:{closed_port()}/0")
    known = RedisKnownAddresses(client)
    try:
        await known.remember("jake", "192.0.2.1", 60)
        assert await known.is_known("anna", "192.0.2.9") is True
    finally:
        await client.aclose()
