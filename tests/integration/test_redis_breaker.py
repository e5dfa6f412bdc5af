"""Every Redis adapter behind the circuit breaker: failures open it, and while it is open each
adapter fails as it would with Redis down (cache miss, limiter unavailable, no attempts
counted), without asking Redis; a cache that skipped invalidations retires what it cached."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from adapters.redis.attempts import RedisAttemptCounter, RedisKnownAddresses
from adapters.redis.breaker import CircuitBreaker
from adapters.redis.cache import RedisCache
from adapters.redis.health import RedisHealthCheck
from adapters.redis.rate_limiter import RedisRateLimiter
from core.shared.rate_limits import RateLimiterUnavailable, RatePolicy
from entrypoints.lifespan import open_redis

pytestmark = [pytest.mark.integration, pytest.mark.redis]

POLICY = RatePolicy("t", 5, 60)
DEPS = ["article:a"]


class Seconds:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Seconds:
    return Seconds()


@pytest.fixture
def breaker(clock: Seconds) -> CircuitBreaker:
    return CircuitBreaker(failures=2, cooldown_s=5, clock=clock)


def open_now(breaker: CircuitBreaker) -> None:
    for _ in range(2):
        assert breaker.allow()
        breaker.failed(TimeoutError())
    assert breaker.state == "open"


@pytest.fixture
async def hung(silent_port: int) -> AsyncIterator[Redis]:
    client = open_redis(f"redis://127.0.0.1:{silent_port}/0", timeout_s=0.02)
    yield client
    await client.aclose()


async def test_timeouts_of_every_adapter_count_towards_one_breaker(
    hung: Redis, breaker: CircuitBreaker
) -> None:
    cache = RedisCache(hung, breaker=breaker)
    attempts = RedisAttemptCounter(hung, breaker=breaker)

    assert await cache.read("k", DEPS) == (None, "")
    after_one = breaker.state
    assert await attempts.status(["someone"]) == [(0, 0)]

    assert (after_one, breaker.state) == ("closed", "open")


async def test_the_rate_limiter_and_the_health_check_count_too(
    hung: Redis, breaker: CircuitBreaker
) -> None:
    with pytest.raises(RateLimiterUnavailable):
        await RedisRateLimiter(hung, breaker=breaker).hit("k", POLICY)
    with pytest.raises(Exception):  # noqa: B017, PT011 - any failure means "not ready"
        await RedisHealthCheck(hung, breaker=breaker).check()

    assert breaker.state == "open"


async def test_an_open_breaker_skips_a_redis_that_answers(
    redis_client: Redis, redis_prefix: str, breaker: CircuitBreaker
) -> None:
    cache = RedisCache(redis_client, prefix=redis_prefix, breaker=breaker)
    attempts = RedisAttemptCounter(redis_client, prefix=redis_prefix, breaker=breaker)
    known = RedisKnownAddresses(redis_client, prefix=redis_prefix, breaker=breaker)
    limiter = RedisRateLimiter(redis_client, prefix=redis_prefix, breaker=breaker)
    _, stamp = await cache.read("k", DEPS)
    await cache.write("k", DEPS, stamp, b"v", ttl_s=60)
    open_now(breaker)

    assert await cache.read("k", DEPS) == (None, "")
    assert await attempts.record([("someone", 60)]) == [0]
    assert await attempts.status(["someone"]) == [(0, 0)]
    await known.remember("someone", "192.0.2.1", 60)
    assert await known.is_known("someone else", "192.0.2.9") is True  # fails open
    with pytest.raises(RateLimiterUnavailable):
        await limiter.hit("k", POLICY)
    with pytest.raises(Exception):  # noqa: B017, PT011
        await RedisHealthCheck(redis_client, breaker=breaker).check()
    assert await redis_client.get(f"{redis_prefix}attempts:someone") is None
    assert await redis_client.get(f"{redis_prefix}known:someone:192.0.2.1") is None


async def test_the_probe_after_the_cooldown_closes_the_breaker(
    redis_client: Redis, redis_prefix: str, breaker: CircuitBreaker, clock: Seconds
) -> None:
    limiter = RedisRateLimiter(redis_client, prefix=redis_prefix, breaker=breaker)
    open_now(breaker)
    clock.now += 5

    decision = await limiter.hit("k", POLICY)

    assert decision.allowed
    assert breaker.state == "closed"


async def test_a_readiness_check_can_be_the_probe(
    redis_client: Redis, breaker: CircuitBreaker, clock: Seconds
) -> None:
    open_now(breaker)
    clock.now += 5

    await RedisHealthCheck(redis_client, breaker=breaker).check()

    assert breaker.state == "closed"


async def test_a_value_cached_before_a_skipped_invalidation_is_not_served_after(
    redis_client: Redis, redis_prefix: str, breaker: CircuitBreaker, clock: Seconds
) -> None:
    cache = RedisCache(redis_client, prefix=redis_prefix, breaker=breaker)
    _, stamp = await cache.read("k", DEPS)
    await cache.write("k", DEPS, stamp, b"before the edit", ttl_s=60)
    open_now(breaker)

    await cache.invalidate(DEPS)  # skipped: the edit's invalidation never reaches Redis
    clock.now += 5

    value, now_stamp = await cache.read("k", DEPS)

    assert (value, breaker.state) == (None, "closed")
    assert now_stamp != stamp
