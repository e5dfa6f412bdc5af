"""Redis AttemptCounter and KnownAddresses: shared by every process, one round trip a call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.redis.breaker import CircuitBreaker
from adapters.redis.errors import ErrorListener

# INCR each key, and start its window's expiry on its first failure only: a window is fixed
# from the first failure, later failures don't extend it. A key found without an expiry
# (written by hand, say) gets one rather than counting forever.
_RECORD = """
local counts = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 or redis.call('TTL', key) == -1 then
    redis.call('EXPIRE', key, ARGV[i])
  end
  counts[i] = count
end
return counts
"""


class _LoginLimitsAdapter:
    """What both adapters share: the client, the key prefix, the breaker, failing open."""

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
        self._on_error = on_error

    def _failed(self, operation: str, exc: BaseException) -> None:
        self._breaker.failed(exc)
        if self._on_error is not None:
            self._on_error(operation, exc)
        logger.warning("login limits unavailable in Redis (failing open): {}", exc)


class RedisAttemptCounter(_LoginLimitsAdapter):
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
        super().__init__(redis, prefix=prefix, on_error=on_error, breaker=breaker)
        self._record: Any = redis.register_script(_RECORD)

    def _key(self, key: str) -> str:
        return f"{self._prefix}attempts:{key}"

    async def record(self, windows: Sequence[tuple[str, int]]) -> list[int]:
        if not windows or not self._breaker.allow():
            return [0] * len(windows)
        keys = [self._key(key) for key, _ in windows]
        try:
            counts = await self._record(keys=keys, args=[window for _, window in windows])
            counted = [int(count) for count in counts]
        except (RedisError, OSError, ValueError) as exc:
            self._failed("attempts.record", exc)
            return [0] * len(windows)
        self._breaker.succeeded()
        return counted

    async def status(self, keys: Sequence[str]) -> list[tuple[int, int]]:
        if not keys or not self._breaker.allow():
            return [(0, 0)] * len(keys)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.get(self._key(key))
                    pipe.ttl(self._key(key))
                replies = await pipe.execute()
            self._breaker.succeeded()
            statuses = []
            for raw, ttl in zip(replies[::2], replies[1::2], strict=True):
                fresh = raw is not None and int(ttl) > 0
                statuses.append((int(raw), int(ttl)) if fresh else (0, 0))
            return statuses
        except (RedisError, OSError, ValueError) as exc:
            self._failed("attempts.status", exc)
            return [(0, 0)] * len(keys)

    async def clear(self, key: str) -> None:
        if not self._breaker.allow():
            return
        try:
            await self._redis.delete(self._key(key))
        except (RedisError, OSError) as exc:
            self._failed("attempts.clear", exc)
            return
        self._breaker.succeeded()


class RedisKnownAddresses(_LoginLimitsAdapter):
    """One key per (account, address) with the TTL, renewed by each success. Fails open: with
    Redis unreachable (or the breaker open) every address counts as known, as the counters
    then count nothing."""

    def _key(self, account: str, address: str) -> str:
        return f"{self._prefix}known:{account}:{address}"

    async def remember(self, account: str, address: str, ttl_s: int) -> None:
        if not self._breaker.allow():
            return
        try:
            await self._redis.set(self._key(account, address), b"1", ex=ttl_s)
        except (RedisError, OSError) as exc:
            self._failed("known_addresses.remember", exc)
            return
        self._breaker.succeeded()

    async def is_known(self, account: str, address: str) -> bool:
        if not self._breaker.allow():
            return True
        try:
            known = bool(await self._redis.exists(self._key(account, address)))
        except (RedisError, OSError) as exc:
            self._failed("known_addresses.is_known", exc)
            return True
        self._breaker.succeeded()
        return known
