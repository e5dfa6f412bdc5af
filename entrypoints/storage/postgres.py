"""PostgreSQL through asyncpg: migrated by `conduit migrate`, checked at start."""

from __future__ import annotations

from typing import ClassVar

from entrypoints.database_url import POSTGRES_DRIVER
from entrypoints.storage.sql import SqlStorage


class PostgresStorage(SqlStorage):
    name: ClassVar[str] = "postgres"
    schemes: ClassVar[tuple[str, ...]] = (POSTGRES_DRIVER,)
