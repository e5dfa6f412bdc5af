"""RateLimiter contract: the in-memory and Redis adapters (GCRA) keep the same promises."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from adapters.memory.rate_limiter import InMemoryRateLimiter
from adapters.redis.rate_limiter import RedisRateLimiter
from core.shared.rate_limits import RateLimiter, RateLimiterUnavailable, RatePolicy
from entrypoints.lifespan import open_redis

FIVE_PER_MINUTE = RatePolicy("t", 5, 60)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        yield InMemoryRateLimiter()
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    try:
        yield RedisRateLimiter(client, prefix=request.getfixturevalue("redis_prefix"))
    finally:
        await client.aclose()


async def test_a_burst_up_to_the_limit_passes_then_one_is_refused(limiter: RateLimiter) -> None:
    decisions = [await limiter.hit("k", FIVE_PER_MINUTE) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    refused = decisions[-1]
    assert refused.remaining == 0
    assert 1 <= refused.retry_after_s <= 12  # one emission interval (60 s / 5)
    assert all(d.limit == 5 for d in decisions)


async def test_keys_are_limited_apart(limiter: RateLimiter) -> None:
    for _ in range(5):
        await limiter.hit("a", FIVE_PER_MINUTE)
    assert (await limiter.hit("b", FIVE_PER_MINUTE)).allowed


async def test_quota_comes_back_with_time(limiter: RateLimiter) -> None:
    fast = RatePolicy("fast", 2, 1)  # 2 per second
    assert (await limiter.hit("k", fast)).allowed
    assert (await limiter.hit("k", fast)).allowed
    assert not (await limiter.hit("k", fast)).allowed
    await asyncio.sleep(0.6)
    assert (await limiter.hit("k", fast)).allowed


async def test_concurrent_hits_never_exceed_the_limit(limiter: RateLimiter) -> None:
    decisions = await asyncio.gather(*(limiter.hit("k", FIVE_PER_MINUTE) for _ in range(40)))
    assert sum(d.allowed for d in decisions) == 5


async def test_reset_tells_when_the_quota_is_full_again(limiter: RateLimiter) -> None:
    decision = await limiter.hit("k", FIVE_PER_MINUTE)
    assert 1 <= decision.reset_s <= 12


def test_policies_parse_the_usual_notations() -> None:
    assert RatePolicy.parse("auth", "10/minute") == RatePolicy("auth", 10, 60)
    assert RatePolicy.parse("read", "600/hour") == RatePolicy("read", 600, 3600)
    assert RatePolicy.parse("x", "7/30") == RatePolicy("x", 7, 30)
    with pytest.raises(ValueError, match="positive"):
        RatePolicy.parse("x", "0/minute")
    with pytest.raises(ValueError, match="invalid literal"):
        RatePolicy.parse("x", "ten/minute")


async def test_a_dead_redis_says_unavailable_quickly() -> None:
    client = open_redis("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(RateLimiterUnavailable):
            await RedisRateLimiter(client).hit("k", FIVE_PER_MINUTE)
    finally:
        await client.aclose()
