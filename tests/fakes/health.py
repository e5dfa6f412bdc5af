"""Health check fakes: a dependency that answers, one that fails, one that never answers."""

from __future__ import annotations

import asyncio

from core.shared.health import HealthCheck


class FakeHealthCheck(HealthCheck):
    """Answers after `delay_s`, or raises `error` if one is given. Counts its calls."""

    def __init__(self, *, delay_s: float = 0.0, error: Exception | None = None) -> None:
        self.delay_s, self.error, self.calls = delay_s, error, 0

    async def check(self) -> None:
        self.calls += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.error is not None:
            raise self.error


class HangingHealthCheck(HealthCheck):
    """Never answers (a dependency that accepted the connection and went silent)."""

    async def check(self) -> None:
        await asyncio.Event().wait()
