"""Redis RateLimiter: GCRA in one Lua script per check, on Redis's own clock, so every
process shares one limit per key."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.redis.breaker import CircuitBreaker, CircuitOpen
from adapters.redis.errors import ErrorListener
from core.shared.rate_limits import RateDecision, RateLimiterUnavailable, RatePolicy

# KEYS[1] = key; ARGV = interval (ms), burst (ms). Returns {allowed, remaining, reset_ms, retry_ms}.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst
if now < allow_at then
  return {0, 0, tat - now, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, new_tat - now))
local remaining = math.floor((burst - (new_tat - now)) / interval)
return {1, remaining, new_tat - now, 0}
"""


def _seconds(ms: int) -> int:
    return max(0, -(-ms // 1000))  # ceil


class RedisRateLimiter:
    """Raises RateLimiterUnavailable when Redis fails, and at once, without asking it, while the
    circuit breaker is open (ApplyRateLimit then fails open or closed)."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "conduit:",
        on_error: ErrorListener | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._prefix = f"{prefix}rate:"
        self._breaker = breaker or CircuitBreaker()
        self._script: Any = redis.register_script(_GCRA)
        self._on_error = on_error

    async def hit(self, key: str, policy: RatePolicy) -> RateDecision:
        interval_ms = max(1, policy.period_s * 1000 // policy.limit)
        burst_ms = policy.period_s * 1000
        if not self._breaker.allow():
            raise RateLimiterUnavailable(str(CircuitOpen()))
        try:
            allowed, remaining, reset_ms, retry_ms = await self._script(
                keys=[self._prefix + key], args=[interval_ms, burst_ms]
            )
        except (RedisError, OSError) as exc:
            self._breaker.failed(exc)
            if self._on_error is not None:
                self._on_error("rate_limit.hit", exc)
            raise RateLimiterUnavailable(str(exc)) from exc
        self._breaker.succeeded()
        return RateDecision(
            bool(allowed),
            policy.limit,
            max(0, int(remaining)),
            _seconds(int(reset_ms)),
            max(1, _seconds(int(retry_ms))) if not allowed else 0,
        )
