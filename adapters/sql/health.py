"""SqlHealthCheck: the database answers a trivial query."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.shared.health import HealthCheck


class SqlHealthCheck(HealthCheck):
    """`SELECT 1` over a pooled connection (Postgres or SQLite)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def check(self) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
