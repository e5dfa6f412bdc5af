"""InMemoryHealthCheck: in-memory storage lives in the process, so it is up when we are."""

from __future__ import annotations

from core.shared.health import HealthCheck


class InMemoryHealthCheck(HealthCheck):
    async def check(self) -> None:
        return None
