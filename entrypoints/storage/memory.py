"""memory://: every port over one in-process MemoryDatabase; nothing is kept."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, ClassVar, Self

from loguru import logger

from adapters.memory.health import InMemoryHealthCheck
from adapters.memory.one_time import InMemoryOneTimeStore
from adapters.memory.outbox import InMemoryNotificationQueries
from adapters.memory.queries import (
    InMemoryArticleQueries,
    InMemoryProfileQueries,
    InMemoryUserDirectory,
)
from adapters.memory.store import InMemoryUnitOfWork, MemoryDatabase
from core.shared.events import CommitListener
from core.shared.health import HealthCheck
from entrypoints.storage.backend import CallerSignal, StorageAdapters, StorageBackend

if TYPE_CHECKING:
    from adapters.cache.callers import ProcessCallerCache
    from adapters.sql.schema import SchemaRevision
    from entrypoints.settings import Settings


class MemoryStorage(StorageBackend):
    name: ClassVar[str] = "memory"
    schemes: ClassVar[tuple[str, ...]] = ("memory",)  # MEMORY_URL, nothing after it
    keeps_data: ClassVar[bool] = False
    caller_signal: ClassVar[CallerSignal] = "process"

    def __init__(self, db: MemoryDatabase | None = None) -> None:
        self.db = MemoryDatabase() if db is None else db

    @classmethod
    async def open(cls, settings: Settings, *, check_schema: bool = True) -> Self:
        logger.info("storage: in memory (nothing is kept)")
        return cls()

    async def close(self) -> None:
        return None

    def adapters(self, listeners: Sequence[CommitListener]) -> StorageAdapters:
        return StorageAdapters(
            uow=InMemoryUnitOfWork(self.db, listeners),
            articles=InMemoryArticleQueries(self.db),
            profiles=InMemoryProfileQueries(self.db),
            users=InMemoryUserDirectory(self.db),
            notifications=InMemoryNotificationQueries(self.db),
            one_time=InMemoryOneTimeStore(),
        )

    def health_checks(self) -> Mapping[str, HealthCheck]:
        return {"database": InMemoryHealthCheck()}

    def watch_callers(self, cache: ProcessCallerCache) -> AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()  # every change is made in this process

    async def upgrade_schema(self) -> None:
        return None  # no schema

    @classmethod
    async def prepare(cls, settings: Settings) -> Mapping[str, str]:
        return {}

    @classmethod
    async def migrate_schema(cls, settings: Settings) -> SchemaRevision | None:
        return None
