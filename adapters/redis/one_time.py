"""RedisOneTimeStore: pending sign-ins and one-time codes on Redis, shared by every process."""

from __future__ import annotations

from datetime import datetime, timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.shared.errors import Unavailable


class RedisOneTimeStore:
    """`put` is SET with PX (Redis expires the key); `take` is GETDEL, one atomic command:
    of two concurrent takes, one gets the value. Redis down is Unavailable (503): a sign-in
    cannot go on without its state."""

    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self._redis, self._prefix = redis, prefix

    async def put(self, key: str, value: str, *, ttl: timedelta, now: datetime) -> None:
        millis = max(1, int(ttl.total_seconds() * 1000))
        try:
            await self._redis.set(self._prefix + key, value.encode(), px=millis)
        except RedisError as exc:
            raise Unavailable("sign-in storage (Redis) is not answering; retry") from exc

    async def take(self, key: str, *, now: datetime) -> str | None:
        try:
            raw = await self._redis.getdel(self._prefix + key)
        except RedisError as exc:
            raise Unavailable("sign-in storage (Redis) is not answering; retry") from exc
        if raw is None:
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw)
