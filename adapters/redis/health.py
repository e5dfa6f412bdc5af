"""RedisHealthCheck: the Redis server answers PING."""

from __future__ import annotations

from redis.asyncio import Redis

from core.shared.health import HealthCheck


class RedisHealthCheck(HealthCheck):
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def check(self) -> None:
        await self._redis.ping()
