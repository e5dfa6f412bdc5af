"""SQLite through aiosqlite: a file next to the app, migrated at start (SQLITE_AUTO_MIGRATE)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from entrypoints.database_url import SQLITE_DRIVER
from entrypoints.storage.sql import SqlStorage

if TYPE_CHECKING:
    from entrypoints.settings import Settings


class SqliteStorage(SqlStorage):
    name: ClassVar[str] = "sqlite"
    schemes: ClassVar[tuple[str, ...]] = (SQLITE_DRIVER,)

    @classmethod
    def migrates_itself(cls, settings: Settings) -> bool:
        return settings.sqlite_auto_migrate

    @classmethod
    async def prepare(cls, settings: Settings) -> Mapping[str, str]:
        # Migrated once here: N workers would race N migrations; they only check it.
        return {**await super().prepare(settings), "SQLITE_AUTO_MIGRATE": "false"}
