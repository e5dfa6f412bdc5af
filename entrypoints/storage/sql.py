"""What the SQL backends share: one engine, the SQL adapters, the schema against the code's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, ClassVar, Self

from loguru import logger
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import dispose_engine, make_engine, on_pool_wait
from adapters.sql.health import SqlHealthCheck, SqlSchemaCheck
from adapters.sql.identities import SqlOneTimeStore
from adapters.sql.notifications import SqlNotificationQueries
from adapters.sql.queries import SqlArticleQueries, SqlProfileQueries, SqlUserDirectory
from adapters.sql.schema import Migrations, SchemaRevision, schema_revision
from adapters.sql.uow import SqlAlchemyUnitOfWork
from core.shared.events import CommitListener
from core.shared.health import HealthCheck
from entrypoints import metrics
from entrypoints.storage.backend import (
    CallerSignal,
    StartRefused,
    StorageAdapters,
    StorageBackend,
)
from entrypoints.storage.schema import (
    SCHEMA_CHECK_TIMEOUT_S,
    check_schema_at_start,
    code_migrations,
    log_migration,
    migrate,
)

if TYPE_CHECKING:
    from adapters.cache.callers import ProcessCallerCache
    from entrypoints.settings import Settings


class SqlStorage(StorageBackend):
    """A database behind SQLAlchemy. Subclasses name the dialect and whether it migrates
    itself at start; `migrations` (set when opened from settings) adds the schema to the
    readiness checks."""

    keeps_data: ClassVar[bool] = True
    # SQLite: no signal reaches another process (a second worker, a second server, the CLI).
    caller_signal: ClassVar[CallerSignal] = "none"

    def __init__(self, engine: AsyncEngine, migrations: Migrations | None = None) -> None:
        self.engine, self.migrations = engine, migrations
        self._at_head = False  # migrated when opened: create-admin need not do it again

    @classmethod
    def migrates_itself(cls, settings: Settings) -> bool:
        """Whether the schema is upgraded at start, instead of checked (default: checked)."""
        return False

    @classmethod
    async def open(cls, settings: Settings, *, check_schema: bool = True) -> Self:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        logger.info("storage: {}", engine.url.render_as_string(hide_password=True))
        storage = cls(engine)
        try:
            storage.migrations = code_migrations()
            if cls.migrates_itself(settings):
                log_migration(await migrate(engine))
                storage._at_head = True
            elif check_schema:
                await check_schema_at_start(engine, storage.migrations)
        except BaseException:
            await storage.close()  # a failed start leaves nothing open
            raise
        return storage

    async def close(self) -> None:
        await dispose_engine(self.engine)

    def adapters(self, listeners: Sequence[CommitListener]) -> StorageAdapters:
        on_pool_wait(metrics.count_pool_wait)
        return StorageAdapters(
            uow=SqlAlchemyUnitOfWork(self.engine, listeners),
            articles=SqlArticleQueries(self.engine),
            profiles=SqlProfileQueries(self.engine),
            users=SqlUserDirectory(self.engine),
            notifications=SqlNotificationQueries(self.engine),
            one_time=SqlOneTimeStore(self.engine),
        )

    def health_checks(self) -> Mapping[str, HealthCheck]:
        checks: dict[str, HealthCheck] = {"database": SqlHealthCheck(self.engine)}
        if self.migrations is not None:
            checks["schema"] = SqlSchemaCheck(self.engine, self.migrations)
        return checks

    def watch_callers(self, cache: ProcessCallerCache) -> AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()

    async def upgrade_schema(self) -> None:
        if not self._at_head:
            await migrate(self.engine)

    @classmethod
    async def prepare(cls, settings: Settings) -> Mapping[str, str]:
        """Migrate when the backend migrates itself (a failure raises). Otherwise raise
        StartRefused when the schema is behind; a database that does not answer is left to
        each worker's start-up check, which says so."""
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            if cls.migrates_itself(settings):
                log_migration(await migrate(engine))
                return {}
            try:
                async with asyncio.timeout(SCHEMA_CHECK_TIMEOUT_S):
                    revision = await schema_revision(engine, code_migrations())
            except Exception:  # reported by the workers, in one line, as they start anyway
                return {}
            if revision.behind:
                raise StartRefused(f"database schema {revision.describe()}")
            return {}
        finally:
            await dispose_engine(engine)

    @classmethod
    async def migrate_schema(cls, settings: Settings) -> SchemaRevision:
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            return await migrate(engine)
        finally:
            await dispose_engine(engine)
