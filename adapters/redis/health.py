"""RedisHealthCheck: the Redis server answers PING, through the circuit breaker."""

from __future__ import annotations

from redis.asyncio import Redis

from adapters.redis.breaker import CircuitBreaker, CircuitOpen
from core.shared.health import HealthCheck


class RedisHealthCheck(HealthCheck):
    """Raises CircuitOpen at once while the breaker skips Redis. Otherwise the PING counts as
    any other call: it may be the half-open probe that closes the breaker again, so a
    readiness probe brings Redis back into use even when no request does."""

    def __init__(self, redis: Redis, *, breaker: CircuitBreaker | None = None) -> None:
        self._redis = redis
        self._breaker = breaker or CircuitBreaker()

    async def check(self) -> None:
        if not self._breaker.allow():
            raise CircuitOpen
        try:
            await self._redis.ping()
        except Exception as exc:  # a cancelled probe reports nothing; the breaker gives it up
            self._breaker.failed(exc)
            raise
        self._breaker.succeeded()
