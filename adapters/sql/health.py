"""SqlHealthCheck: the database answers a trivial query; SqlSchemaCheck: its schema is current."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.schema import Migrations, schema_revision
from core.shared.health import HealthCheck, NotReady


class SqlHealthCheck(HealthCheck):
    """`SELECT 1` over a pooled connection (Postgres or SQLite)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def check(self) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))


class SqlSchemaCheck(HealthCheck):
    """The database's schema is at the code's head revision, or ahead of it (a rolling deploy
    migrates first); behind or never migrated, every query could fail: not ready."""

    def __init__(self, engine: AsyncEngine, migrations: Migrations) -> None:
        self._engine, self._migrations = engine, migrations

    async def check(self) -> None:
        revision = await schema_revision(self._engine, self._migrations)
        if revision.behind:
            raise NotReady(revision.describe())
