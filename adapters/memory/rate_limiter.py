"""In-memory RateLimiter (GCRA): one process only; Redis shares limits across processes."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from core.shared.rate_limits import RateDecision, RatePolicy


class InMemoryRateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self._now = clock
        self._max = max_keys
        self._tat: dict[str, float] = {}  # key -> theoretical arrival time

    async def hit(self, key: str, policy: RatePolicy) -> RateDecision:
        now = self._now()
        interval = policy.period_s / policy.limit
        burst = policy.period_s  # limit * interval
        tat = max(self._tat.get(key, now), now)
        new_tat = tat + interval
        allow_at = new_tat - burst
        if now < allow_at:
            retry = max(1, math.ceil(allow_at - now))
            return RateDecision(False, policy.limit, 0, math.ceil(tat - now), retry)
        if len(self._tat) >= self._max and key not in self._tat:
            self._sweep(now)
        self._tat[key] = new_tat
        remaining = int((burst - (new_tat - now)) // interval)
        return RateDecision(True, policy.limit, max(0, remaining), math.ceil(new_tat - now), 0)

    def _sweep(self, now: float) -> None:
        for key in [k for k, tat in self._tat.items() if tat <= now]:
            del self._tat[key]
