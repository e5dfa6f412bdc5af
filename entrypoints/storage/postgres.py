"""PostgreSQL through asyncpg: migrated by `conduit migrate`, checked at start."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import ClassVar

from adapters.cache.callers import ProcessCallerCache
from adapters.sql.callers import PostgresCallerSignal
from adapters.sql.engine import dispose_engine, make_engine
from entrypoints.background import running
from entrypoints.database_url import POSTGRES_DRIVER
from entrypoints.storage.backend import CallerSignal
from entrypoints.storage.sql import SqlStorage


class PostgresStorage(SqlStorage):
    name: ClassVar[str] = "postgres"
    schemes: ClassVar[tuple[str, ...]] = (POSTGRES_DRIVER,)
    caller_signal: ClassVar[CallerSignal] = "notify"

    @contextlib.asynccontextmanager
    async def watch_callers(self, cache: ProcessCallerCache) -> AsyncIterator[None]:
        """LISTEN for account changes on a connection of its own (adapters.sql.callers), in
        the background while the block runs. The cache answers only while it listens."""
        if not cache.enabled:
            yield
            return
        url = self.engine.url.render_as_string(hide_password=False)
        engine = make_engine(url, pool_size=1)
        signal = PostgresCallerSignal(engine, cache)
        try:
            async with running(signal.run, name="caller-cache-signal"):
                yield
        finally:
            await dispose_engine(engine)
