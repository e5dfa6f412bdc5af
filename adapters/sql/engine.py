"""Engine and session factories, with the per-dialect settings each database needs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy.ext.asyncio
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection

# Connections taken through an engine carrying this option start write transactions with
# BEGIN IMMEDIATE on SQLite: a deferred transaction that reads and then writes cannot wait
# for the lock (SQLITE_BUSY at once), an immediate one waits up to busy_timeout.
WRITE_OPTION = "conduit_write"


PoolWaitListener = Callable[[int], None]
_pool_wait_listeners: list[PoolWaitListener] = []


def on_pool_wait(listener: PoolWaitListener) -> None:
    """Call `listener(+1)` when a caller starts waiting for a pooled connection and
    `listener(-1)` when it stops (it got one, or gave up). For the entrypoints' metrics:
    adapters never import them, so they hand us the callback."""
    if listener not in _pool_wait_listeners:
        _pool_wait_listeners.append(listener)


class WaitCountingPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool, also reporting the callers waiting in connect()
    (queued for a free connection, or while a new one opens): SQLAlchemy's own numbers
    (checkedout, overflow) count connections, not the requests queued behind them."""

    def connect(self) -> PoolProxiedConnection:
        for listener in _pool_wait_listeners:
            listener(1)
        try:
            return super().connect()
        finally:
            for listener in _pool_wait_listeners:
                listener(-1)


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """An AsyncEngine for Postgres (asyncpg) or SQLite (aiosqlite)."""
    # Looked up at call time, not imported by name: OpenTelemetry's SQLAlchemy
    # instrumentation (on only when tracing is configured) wraps this function in its module.
    create_async_engine = sqlalchemy.ext.asyncio.create_async_engine
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, echo=echo, connect_args={"timeout": 30}, poolclass=WaitCountingPool
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        poolclass=WaitCountingPool,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    # SQLAlchemy's documented workaround: let the driver not manage transactions, and emit
    # BEGIN ourselves, so that SAVEPOINT and BEGIN IMMEDIATE work with (aio)sqlite.
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


async def dispose_engine(engine: AsyncEngine) -> None:
    """Close the engine's connections, and on SQLite wait for aiosqlite's worker threads to end.

    When a connection fails to open, aiosqlite 0.22.1 queues its worker thread's stop without
    awaiting it (omnilib/aiosqlite#389). If the event loop closes first (`asyncio.run` in the
    CLI, a test's loop), the thread's last hand-off raises "Event loop is closed" and prints a
    traceback. Waiting here, while the loop still runs, lets every such thread finish cleanly.
    """
    await engine.dispose()
    if engine.dialect.name != "sqlite":
        return
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)"):
            await asyncio.to_thread(thread.join, 5)


def write_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for the unit of work (write transactions)."""
    return async_sessionmaker(
        engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
    )


def read_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for the read side (query ports)."""
    return async_sessionmaker(engine, expire_on_commit=False)
