"""Redis AttemptCounter: counts shared by every process, one atomic script per failure."""

from __future__ import annotations

from typing import Any

from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.redis.breaker import CircuitBreaker
from adapters.redis.errors import ErrorListener

# INCR, and start the window's expiry on the first failure only: the window is fixed from
# the first failure, later failures don't extend it.
_RECORD = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RedisAttemptCounter:
    """Fails open: with Redis unreachable, logins are not throttled (and a warning is logged)
    rather than refused for everyone; while the circuit breaker is open, at once and quietly."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "conduit:",
        on_error: ErrorListener | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._redis = redis
        self._breaker = breaker or CircuitBreaker()
        self._prefix = prefix
        self._record: Any = redis.register_script(_RECORD)
        self._on_error = on_error

    def _failed(self, operation: str, exc: BaseException) -> None:
        self._breaker.failed(exc)
        if self._on_error is not None:
            self._on_error(operation, exc)

    def _key(self, key: str) -> str:
        return f"{self._prefix}attempts:{key}"

    async def record(self, key: str, window_s: int) -> int:
        if not self._breaker.allow():
            return 0
        try:
            count = int(await self._record(keys=[self._key(key)], args=[window_s]))
        except (RedisError, OSError, ValueError) as exc:
            self._failed("attempts.record", exc)
            logger.warning("login attempt counter unavailable (failing open): {}", exc)
            return 0
        self._breaker.succeeded()
        return count

    async def status(self, key: str) -> tuple[int, int]:
        if not self._breaker.allow():
            return 0, 0
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(self._key(key))
                pipe.ttl(self._key(key))
                raw, ttl = await pipe.execute()
            self._breaker.succeeded()
            if raw is None or int(ttl) <= 0:
                return 0, 0
            return int(raw), int(ttl)
        except (RedisError, OSError, ValueError) as exc:
            self._failed("attempts.status", exc)
            logger.warning("login attempt counter unavailable (failing open): {}", exc)
            return 0, 0

    async def clear(self, key: str) -> None:
        if not self._breaker.allow():
            return
        try:
            await self._redis.delete(self._key(key))
        except (RedisError, OSError) as exc:
            self._failed("attempts.clear", exc)
            logger.warning("login attempt counter unavailable: {}", exc)
            return
        self._breaker.succeeded()
