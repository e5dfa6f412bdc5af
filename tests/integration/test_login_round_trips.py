"""Redis round trips per password login, on the real Redis: the brute-force limits stay a
few operations, pipelined or scripted, whatever the outcome.

Every command batch the client writes to Redis (a command, a pipeline, a script call) is
counted as one round trip by a connection class that counts its sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Connection, Redis

from adapters.redis.attempts import RedisAttemptCounter, RedisKnownAddresses
from core.auth.login_limits import LoginLimits
from core.auth.model import AuthPolicy

pytestmark = [pytest.mark.integration, pytest.mark.redis]

HOME, ELSEWHERE = "192.0.2.10", "198.51.100.20"
POLICY = AuthPolicy(max_failures_per_pair=3, max_failures_per_account=5)


class CountingConnection(Connection):
    sends = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sends += 1
        await super().send_packed_command(command, check_health)


@pytest.fixture
async def limits(redis_url: str, redis_prefix: str) -> AsyncIterator[LoginLimits]:
    client = Redis.from_url(redis_url, connection_class=CountingConnection)
    attempts = RedisAttemptCounter(client, prefix=redis_prefix)
    known = RedisKnownAddresses(client, prefix=redis_prefix)
    limits = LoginLimits(attempts, known, POLICY)
    await limits.failed(await limits.admit("warm-up@example.com", HOME))  # loads the script
    try:
        yield limits
    finally:
        await client.aclose()


async def round_trips(call: Any) -> tuple[int, Any]:
    before = CountingConnection.sends
    result = await call
    return CountingConnection.sends - before, result


async def test_a_login_reads_its_three_counters_in_one_round_trip(limits: LoginLimits) -> None:
    trips, _ = await round_trips(limits.admit("jake@example.com", HOME))
    assert trips == 1


async def test_a_failure_is_recorded_in_one_round_trip(limits: LoginLimits) -> None:
    attempt = await limits.admit("jake@example.com", HOME)
    trips, _ = await round_trips(limits.failed(attempt))
    assert trips == 1


async def test_a_success_costs_one_round_trip_and_two_after_failures(
    limits: LoginLimits,
) -> None:
    trips, _ = await round_trips(limits.succeeded(await limits.admit("jake@example.com", HOME)))
    assert trips == 1  # remembers the address
    await limits.failed(await limits.admit("jake@example.com", HOME))
    trips, _ = await round_trips(limits.succeeded(await limits.admit("jake@example.com", HOME)))
    assert trips == 2  # and forgets the pair's failure


async def test_the_known_addresses_are_read_only_past_the_accounts_ceiling(
    limits: LoginLimits,
) -> None:
    await limits.succeeded(await limits.admit("jake@example.com", HOME))
    for i in range(5):
        await limits.failed(await limits.admit("jake@example.com", f"203.0.113.{i}"))
    trips, attempt = await round_trips(limits.admit("jake@example.com", HOME))
    assert trips == 2
    assert attempt.address == HOME
