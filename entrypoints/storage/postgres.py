"""PostgreSQL through asyncpg: migrated by `conduit migrate`, checked at start."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import ClassVar

from adapters.cache.callers import ProcessCallerCache
from adapters.sql.callers import PostgresCallerSignal
from adapters.sql.engine import dispose_engine, make_engine
from entrypoints.database_url import POSTGRES_DRIVER
from entrypoints.storage.backend import CallerSignal
from entrypoints.storage.sql import SqlStorage

# How long a stopping process waits for the signal's connection to close.
_STOP_TIMEOUT_S = 5.0


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
        stop = asyncio.Event()
        task = asyncio.create_task(signal.run(stop), name="caller-cache-signal")
        try:
            yield
        finally:
            stop.set()
            try:
                async with asyncio.timeout(_STOP_TIMEOUT_S):
                    await asyncio.shield(task)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await dispose_engine(engine)
