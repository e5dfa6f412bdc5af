"""The engine, with the per-dialect settings each database needs, and the connections the
unit of work (writes) and the read side (reads) take from it."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import typing
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
import asyncpg
import sqlalchemy.ext.asyncio
from loguru import logger
from sqlalchemy import ClauseElement, CursorResult, Executable, ScalarResult, Select, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import await_, greenlet_spawn
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty

from core.shared.errors import Unavailable

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


class FairQueue(AsyncAdaptedQueue[Any]):
    """SQLAlchemy's asyncio pool queue, first come first served.

    The stock queue lets a caller that just arrived take a connection that was returned while
    others waited (`get_nowait` first, and asyncio.Queue puts a woken waiter that lost the race
    back at the end of the line). Under load a request could lose that race again and again:
    with 64 connections on a 10-connection pool, the p99 of an authenticated list (two
    checkouts a request) was 6 x its p50. Here a returned connection goes straight to the
    longest waiter, and nobody takes one past a waiter.
    """

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[Any]] = deque()

    def put_nowait(self, item: Any) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        super().put_nowait(item)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)  # the pool never holds more than maxsize: never blocks

    def peek(self) -> Any | None:
        """What `get` would hand out now without waiting, left in the queue; None when it
        would wait (nothing free, or callers waiting before us)."""
        if self._waiters:
            return None
        free: deque[Any] = self._queue._queue  # type: ignore[attr-defined]  # asyncio.Queue's
        if not free:
            return None
        return free[-1] if self.use_lifo else free[0]

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if not self._waiters:
            try:
                return self.get_nowait()
            except Empty:
                if not block:
                    raise
        elif not block:
            raise Empty()
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return await_(self._wait(waiter, timeout))

    async def _wait(self, waiter: asyncio.Future[Any], seconds: float | None) -> Any:
        try:
            async with asyncio.timeout(seconds):
                return await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())  # handed over as we gave up: pass it on
            else:
                waiter.cancel()
            if isinstance(exc, TimeoutError):
                raise Empty() from exc
            raise


class WaitCountingPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool, first come first served (`FairQueue`), also
    reporting the callers waiting in connect() (queued for a free connection, or while a new
    one opens): SQLAlchemy's own numbers (checkedout, overflow) count connections, not the
    requests queued behind them."""

    _queue_class = FairQueue

    def connect(self) -> PoolProxiedConnection:
        for listener in _pool_wait_listeners:
            listener(1)
        try:
            return super().connect()
        finally:
            for listener in _pool_wait_listeners:
                listener(-1)

    def ready(self) -> Any | None:
        """The DBAPI connection `connect()` would hand out now with no I/O at all (so needing
        no greenlet), or None: one is free and nobody waits before us, and it needs no
        reconnect (open, not past `pool_recycle`, not invalidated) and no pre-ping. These are
        the conditions under which SQLAlchemy's checkout (`_ConnectionRecord.get_connection`,
        `_ConnectionFairy._checkout`) reaches no `await_`; the caller checks its driver's own
        (a closed socket, which the checkout hook below swaps for a new connection)."""
        if self._pre_ping:
            return None
        record = typing.cast(FairQueue, self._pool).peek()
        if record is None or record.dbapi_connection is None:
            return None
        started: float = record.starttime
        if self._recycle > -1 and time.time() - started > self._recycle:
            return None
        if self._invalidate_time > started or record._soft_invalidate_time > started:
            return None
        return record.dbapi_connection


# How long a SQLite statement waits for the database's write lock before it fails.
SQLITE_BUSY_TIMEOUT_S = 30

# A pooled Postgres connection older than this is closed and replaced at its next checkout:
# idle connections that a firewall, a NAT or a proxy dropped silently do not linger for hours.
POOL_RECYCLE_S = 1800


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """An AsyncEngine for Postgres (asyncpg) or SQLite (aiosqlite).

    Postgres connections are not pinged at checkout (`pool_pre_ping` costs a BEGIN, a `;` and
    a ROLLBACK per checkout with asyncpg): a connection whose server went away (restart,
    `pg_terminate_backend`) has seen its socket close, and the checkout hook below swaps it for
    a fresh one at no cost; a connection that still dies in use invalidates the whole pool
    (SQLAlchemy's disconnect handling), the read side reruns its statement once on a fresh
    one (`ReadConnection`) and a write unit answers Unavailable (`unavailable_on_disconnect`).
    """
    # Looked up at call time, not imported by name: OpenTelemetry's SQLAlchemy
    # instrumentation (on only when tracing is configured) wraps this function in its module.
    create_async_engine = sqlalchemy.ext.asyncio.create_async_engine
    if url.startswith("sqlite"):
        # Every pooled aiosqlite connection is a thread with its own SQLite page cache (up to
        # 2 MiB), and writers queue on the one write lock anyway: the same bound as Postgres,
        # with no overflow (SQLAlchemy's default let 15 open under load).
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
            pool_size=pool_size,
            max_overflow=0,
            poolclass=WaitCountingPool,
        )
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        # No overflow: under load an overflow connection is opened (TCP, TLS when the server
        # offers it, authentication) for one checkout and closed on return, over and over.
        # Requests past `pool_size` wait for a pooled connection instead (pool_timeout).
        max_overflow=0,
        pool_recycle=POOL_RECYCLE_S,
        poolclass=WaitCountingPool,
    )
    _configure_postgres(engine)
    return engine


def _configure_postgres(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkout")
    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        # asyncpg notices a closed socket as soon as the event loop reads its EOF, so a
        # connection whose server went away while it sat in the pool says so without a round
        # trip. DisconnectionError makes the pool discard it and hand out another.
        if dbapi_connection._connection.is_closed():
            raise DisconnectionError("the pooled connection was closed by the server")


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
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
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


def write_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine for the unit of work's write transactions (BEGIN IMMEDIATE on SQLite)."""
    return engine.execution_options(**{WRITE_OPTION: True})


def _unreachable(exc: BaseException) -> Unavailable:
    # Whatever failed while a connection was being opened (refused, "the database system is
    # starting up" as the driver's own error class, a driver hiccup mid-handshake): nothing
    # was sent, the database is what is missing. Logged, with its type, for the operator.
    logger.warning("database: cannot connect: {}: {}", type(exc).__name__, exc)
    return Unavailable("the database is not answering; retry")


async def open_connection(engine: AsyncEngine) -> AsyncConnection:
    """`engine.connect()`, but a database that cannot be reached (down, restarting, refusing
    connections: "the database system is starting up") answers Unavailable (503 with
    Retry-After, in the error schema), not an unexpected 500. Nothing was sent, so nothing
    is half-written; the client may retry."""
    try:
        return await engine.connect()
    except Exception as exc:
        raise _unreachable(exc) from exc


@asynccontextmanager
async def connection_to(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """`async with engine.connect()` through `open_connection`."""
    connection = await open_connection(engine)
    try:
        yield connection
    finally:
        await asyncio.shield(connection.close())


def is_disconnect(exc: BaseException) -> bool:
    """Whether a statement failed because its connection died (SQLAlchemy then invalidated
    the connection and marked every pooled connection older than it for replacement)."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@asynccontextmanager
async def unavailable_on_disconnect() -> AsyncIterator[None]:
    """A lost database connection becomes Unavailable (503 with Retry-After, in the error
    schema): the client may retry, and the pool already replaces its connections."""
    try:
        yield
    except DBAPIError as exc:
        if not is_disconnect(exc):
            raise
        raise Unavailable("the database connection was lost; retry") from exc


class ReadConnection:
    """The statements of one piece of read-only work.

    On Postgres each statement runs in autocommit: it is its own implicit transaction, with no
    BEGIN and COMMIT round trips. The price: two statements of one read may see different
    committed states (a comment list and the article it belongs to); each is consistent in
    itself. Being independent, a statement that finds its connection dead is rerun once on a
    fresh one. A write (a mistake in read-only work) opens a transaction that closing rolls
    back, so it is discarded as the UnitOfWork contract says.

    `rows()` runs the read side's hot statements (built once, module-level) straight on the
    driver (asyncpg, aiosqlite): SQL compiled once per statement, the pool's raw connection, the
    driver's rows as dicts (on SQLite through the column types' own conversions). SQLAlchemy's
    Connection around each statement (checkout as a Connection, execution context, result
    processing) cost more CPU than the driver's own work. Whenever anything listens to the
    engine's cursor events (statement counters in the tests, bench/capture_sql.py,
    OpenTelemetry's SQLAlchemy instrumentation when tracing is on), `rows()` takes
    SQLAlchemy's path instead, so they see every statement as before. `execute()` is always
    SQLAlchemy's. The connection is taken at the first statement and held until `close()`.

    On SQLite, `execute()` runs the work in one deferred transaction (one snapshot; it takes no
    write lock); `rows()` runs each statement on its own, as on Postgres. There is no
    connection to lose.
    """

    def __init__(self, reads: Reads) -> None:
        self._reads = reads
        self._connection: AsyncConnection | None = None
        self._raw: PoolProxiedConnection | None = None
        self._in_transaction = False

    @property
    def dialect(self) -> Dialect:
        return self._reads.engine.dialect

    async def __aenter__(self) -> ReadConnection:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def rows(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The rows of a read statement, each a dict by column label."""
        if self._connection is None and self._reads.direct():
            return await self._driver_rows(statement, parameters or {})
        result = await self.execute(statement, parameters)
        return [dict(row) for row in result.mappings()]

    async def records(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Sequence[Any]:
        """The rows of a read statement, each read by column label (`row[label]`): on asyncpg's
        direct path its Records as they come, with no dict built per row (a list page's twenty
        were 4 % of its CPU), elsewhere the dicts of `rows()`."""
        if self._connection is None and self._reads.direct():
            return await self._driver_rows(statement, parameters or {}, records=True)
        return await self.rows(statement, parameters)

    async def _driver_rows(
        self, statement: Executable, parameters: Mapping[str, Any], *, records: bool = False
    ) -> list[Any]:
        sql = self._reads.driver_sql(statement)
        arguments = sql.arguments(parameters)
        if not self._reads.autocommit:  # SQLite: aiosqlite, one hop to its thread
            raw = self._raw
            if raw is None:
                raw = self._raw = await self._reads.raw_connection()
            sqlite: aiosqlite.Connection = typing.cast(aiosqlite.Connection, raw.driver_connection)
            found = await sqlite.execute_fetchall(sql.text, arguments)
            return [sql.row(values) for values in found]
        for attempt in (1, 2):
            raw = self._raw
            if raw is None:
                raw = self._raw = await self._reads.raw_connection()
            try:
                driver: asyncpg.Connection[Any] = raw.driver_connection
                found = await driver.fetch(sql.text, *arguments)
            except BaseException as exc:
                self._raw = None
                if isinstance(exc, Exception) and not is_driver_disconnect(exc):
                    await self._reads.release(raw)  # an error in the statement: reusable
                    raise
                # Dead, or left mid-statement by a cancellation: never back to the pool. A dead
                # one retires every connection as old as it too (what SQLAlchemy does on a
                # disconnect): the server that dropped it likely dropped them all.
                if isinstance(exc, Exception):
                    pool = self._reads.engine.sync_engine.pool
                    await greenlet_spawn(pool._invalidate, raw, exc)
                else:
                    await greenlet_spawn(raw.invalidate)
                if attempt == 2 or not isinstance(exc, Exception):
                    if isinstance(exc, Exception):
                        raise Unavailable("the database connection was lost; retry") from exc
                    raise
                continue
            return found if records else [dict(record.items()) for record in found]
        raise AssertionError("unreachable")

    async def _release_raw(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            await self._reads.release(raw)

    async def execute(
        self,
        statement: Executable,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    ) -> CursorResult[Any]:
        autocommit = self._reads.autocommit
        if self._connection is None:
            await self._release_raw()  # one pooled connection per read at a time
            self._connection = await open_connection(self._reads.engine)
        if autocommit and statement.is_dml and not self._in_transaction:
            await self._connection.exec_driver_sql("BEGIN")
            self._in_transaction = True
        try:
            return await self._connection.execute(statement, parameters)
        except DBAPIError as exc:
            if not (autocommit and is_disconnect(exc)) or self._in_transaction:
                raise
        await self._connection.close()
        self._connection = await open_connection(self._reads.engine)
        async with unavailable_on_disconnect():
            return await self._connection.execute(statement, parameters)

    async def scalars(self, statement: Executable) -> ScalarResult[Any]:
        return (await self.execute(statement)).scalars()

    async def close(self) -> None:
        try:
            await self._release_raw()
        finally:
            connection, self._connection = self._connection, None
            if connection is not None:
                try:
                    if self._in_transaction:
                        await connection.exec_driver_sql("ROLLBACK")
                finally:
                    await connection.close()


@dataclasses.dataclass(frozen=True, slots=True)
class DriverSql:
    """A statement as the driver takes it: SQL text, its parameters' names by position, and
    what SQLAlchemy's types do to values on the way (`None` where nothing): asyncpg takes and
    gives Python values for every type we use, so there are none; SQLite stores UUIDs as hex
    text, times as naive text and the tags as JSON, so its parameters and columns have them."""

    text: str
    names: tuple[str, ...]
    bind: tuple[Callable[[Any], Any] | None, ...] = ()  # per name, when any
    keys: tuple[str, ...] = ()  # the columns' labels, when `results` is given
    results: tuple[Callable[[Any], Any] | None, ...] = ()  # per column, when any

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        if not self.bind:
            return [parameters[name] for name in self.names]
        return [
            value if convert is None else convert(value)
            for value, convert in zip(
                (parameters[name] for name in self.names), self.bind, strict=True
            )
        ]

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        return {
            key: value if convert is None else convert(value)
            for key, value, convert in zip(self.keys, values, self.results, strict=True)
        }


def is_driver_disconnect(exc: BaseException) -> bool:
    """Whether an asyncpg error (raised outside SQLAlchemy) says the connection is gone."""
    if isinstance(exc, _DRIVER_DISCONNECTS):
        return True
    return isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc)


_DRIVER_DISCONNECTS = (
    ConnectionError,  # the socket, reset or refused
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.PostgresConnectionError,  # class 08
    asyncpg.AdminShutdownError,  # 57P01: terminated by the administrator, a fast shutdown
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    # "cannot switch to state ...; another operation is in progress": seen on a pooled
    # connection whose server had just terminated it, before the socket's close arrived.
    asyncpg.InternalClientError,
)


# The drivers `ReadConnection.rows` runs statements on directly.
_ASYNCPG = ("postgresql", "asyncpg")
_DRIVERS = {_ASYNCPG, ("sqlite", "aiosqlite")}


def _driver_sql(statement: Executable, dialect: Dialect) -> DriverSql:
    done = typing.cast(ClauseElement, statement).compile(dialect=dialect)
    assert isinstance(done, SQLCompiler)
    names = tuple(done.positiontup or ())
    if dialect.name == "postgresql":
        return DriverSql(done.string, names)
    # The conversions SQLAlchemy would apply: each bound parameter's and each column's type.
    bind = tuple(
        done.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    if not isinstance(statement, Select):
        raise TypeError(f"rows() runs SELECT statements, not {type(statement).__name__}")
    columns = list(statement.selected_columns)
    keys = tuple(str(column.key) for column in columns)
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    return DriverSql(done.string, names, bind, keys, results)


class _Driven:
    """What `Reads` and `Writes` share: an engine whose hot statements may go straight to the
    driver, compiled once each."""

    def __init__(self, engine: AsyncEngine, *, direct: bool) -> None:
        self.engine = engine
        self._driver = direct
        self._compiled: dict[Executable, DriverSql] = {}
        # On asyncpg a free pooled connection is checked out, and one with no transaction open
        # returned, with no I/O: then no greenlet (~7 % of a cheap read's CPU went to the two
        # `greenlet_spawn`s). Pool event listeners must do no I/O then (ours count, or check a
        # flag); a `reset` listener (SQLAlchemy's documented place for one) keeps the greenlet.
        self._sync_pool = (engine.dialect.name, engine.dialect.driver) == _ASYNCPG

    def direct(self) -> bool:
        """Whether the hot statements may bypass SQLAlchemy now: on a driver we run them on,
        while nothing listens to the engine's cursor events (checked per statement: listeners
        come and go)."""
        return self._driver and not self.engine.sync_engine.dispatch.before_cursor_execute

    async def raw_connection(self) -> PoolProxiedConnection:
        """A pooled connection as the driver's (no SQLAlchemy Connection around it); one that
        cannot be opened is Unavailable, as in `open_connection`."""
        try:
            pool = self.engine.sync_engine.pool
            if self._sync_pool and isinstance(pool, WaitCountingPool):
                free = pool.ready()
                # A closed socket would make the checkout hook swap it: a reconnect, I/O.
                if free is not None and not free._connection.is_closed():
                    return pool.connect()
            return await greenlet_spawn(pool.connect)
        except Exception as exc:
            raise _unreachable(exc) from exc

    def returns_at_once(self, raw: PoolProxiedConnection) -> bool:
        """Whether `raw.close()` does no I/O, so needs no greenlet: on asyncpg, with no
        transaction open (the pool's reset on return has nothing to roll back), checked in to
        its pool (not detached: closed), and no `reset` listener."""
        adapter: Any = raw.dbapi_connection
        return (
            self._sync_pool
            and adapter is not None
            and adapter._transaction is None
            and raw._connection_record is not None
            and not raw._pool.dispatch.reset
        )

    async def release(self, raw: PoolProxiedConnection) -> None:
        """`raw.close()`, back to the pool: at once when that does no I/O, else in a greenlet."""
        if self.returns_at_once(raw):
            raw.close()
        else:
            await greenlet_spawn(raw.close)

    def driver_sql(self, statement: Executable) -> DriverSql:
        """`statement` compiled for the driver, once (hot statements are module-level)."""
        compiled = self._compiled.get(statement)
        if compiled is None:
            compiled = self._compiled[statement] = _driver_sql(statement, self.engine.dialect)
        return compiled


class WriteConnection:
    """The statements of one write transaction on Postgres (asyncpg).

    `run()` takes the write path's hot statements (built once, module-level: an article with
    its tags, the outbox rows) straight to the driver, as `ReadConnection.rows` does for reads:
    the pool's raw connection, SQL compiled once, BEGIN through SQLAlchemy's own asyncpg
    adapter (so it knows a transaction is open), no SQLAlchemy Connection, execution context
    or greenlet hop per statement. `execute()` is SQLAlchemy's: the first one adopts the raw
    connection (and its open transaction) into an AsyncConnection, and every statement after
    it goes that way, `run()`'s included; so does every statement while anything listens to
    the engine's cursor events (statement counters, capture_sql, tracing).

    `commit()` commits whichever holds the transaction; closing without it rolls back (the
    pool's reset on return). A known constraint violation raises SQLAlchemy's IntegrityError,
    as on SQLAlchemy's path (adapters.sql.constraints maps it); a lost connection answers
    Unavailable, as `unavailable_on_disconnect` does for SQLAlchemy's path.
    """

    def __init__(self, writes: Writes, raw: PoolProxiedConnection | None = None) -> None:
        self._writes = writes
        self._raw: PoolProxiedConnection | None = raw
        self._connection: AsyncConnection | None = None

    @property
    def dialect(self) -> Dialect:
        return self._writes.engine.dialect

    async def run(
        self, statement: Executable, parameters: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The rows a hot write statement returns (none without RETURNING), each a dict by
        column label."""
        if self._connection is not None or not self._writes.direct():
            result = await self.execute(statement, parameters)
            return [dict(row) for row in result.mappings()] if result.returns_rows else []
        raw = self._raw
        if raw is None:
            raw = self._raw = await self._writes.raw_connection()
        sql = self._writes.driver_sql(statement)
        adapter = raw.dbapi_connection
        driver: asyncpg.Connection[Any] = raw.driver_connection
        try:
            if adapter._transaction is None:  # type: ignore[union-attr]
                await adapter._start_transaction()  # type: ignore[union-attr]
            records = await driver.fetch(sql.text, *sql.arguments(parameters))
            return [dict(record.items()) for record in records]
        except BaseException as exc:
            error = await self._failed(exc, sql.text, parameters)
            if error is exc:
                raise
            raise error from exc

    async def _failed(
        self, exc: BaseException, text: str, parameters: Mapping[str, Any]
    ) -> BaseException:
        """What a failed direct statement (or commit) raises; a connection that died, or that a
        cancellation left mid-statement, never goes back to the pool."""
        cause = getattr(exc, "orig", None) or exc  # the adapter's translated error, if any
        if isinstance(cause, asyncpg.IntegrityConstraintViolationError):
            return IntegrityError(text, dict(parameters), cause)
        if isinstance(exc, Exception) and not is_driver_disconnect(cause):
            return exc  # an error in the statement: the connection is reusable (rolled back)
        raw, self._raw = self._raw, None
        if raw is not None:
            if isinstance(exc, Exception):  # dead: retire every connection as old as it
                pool = self._writes.engine.sync_engine.pool
                await greenlet_spawn(pool._invalidate, raw, exc)
            else:
                await asyncio.shield(greenlet_spawn(raw.invalidate))
        if not isinstance(exc, Exception):
            return exc
        return Unavailable("the database connection was lost; retry")

    async def execute(
        self,
        statement: Executable,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    ) -> CursorResult[Any]:
        connection = self._connection
        if connection is None:
            raw, self._raw = self._raw, None
            if raw is None:
                connection = await open_connection(self._writes.engine)
            else:  # the direct statements' transaction goes on under SQLAlchemy
                engine = self._writes.engine
                connection = AsyncConnection(engine, Connection(engine.sync_engine, raw))
            self._connection = connection
        async with unavailable_on_disconnect():
            return await connection.execute(statement, parameters)

    async def scalars(self, statement: Executable) -> ScalarResult[Any]:
        return (await self.execute(statement)).scalars()

    async def commit(self) -> None:
        if self._connection is not None:
            async with unavailable_on_disconnect():
                await self._connection.commit()
            return
        raw = self._raw
        if raw is None:
            return  # nothing was sent: nothing to commit
        adapter = raw.dbapi_connection
        transaction = adapter._transaction  # type: ignore[union-attr]
        if transaction is None:
            return
        try:
            await adapter._call_and_discard(transaction.commit)  # type: ignore[union-attr]
        except BaseException as exc:
            error = await self._failed(exc, "COMMIT", {})
            if error is exc:
                raise
            raise error from exc

    async def close(self) -> None:
        raw, self._raw = self._raw, None
        connection, self._connection = self._connection, None
        if connection is not None:
            await asyncio.shield(connection.close())
        elif raw is not None:  # the pool's reset rolls back what was not committed
            if self._writes.returns_at_once(raw):  # committed, or nothing begun: no I/O
                raw.close()
            else:
                await asyncio.shield(greenlet_spawn(raw.close))


class Writes(_Driven):
    """Connections for write transactions on Postgres (`WriteConnection`)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, direct=(engine.dialect.name, engine.dialect.driver) == _ASYNCPG)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[WriteConnection]:
        """A write connection, checked out at once (a database that cannot be reached answers
        Unavailable here, as SQLAlchemy's path does)."""
        connection = WriteConnection(self, await self.raw_connection())
        try:
            yield connection
        finally:
            await connection.close()


# What repositories run their statements on: a write transaction's connection, or a read one.
Statements = AsyncConnection | ReadConnection | WriteConnection


class Reads(_Driven):
    """Connections for read-only work (the query ports, `begin(read_only=True)`)."""

    def __init__(self, engine: AsyncEngine) -> None:
        postgres = engine.dialect.name == "postgresql"
        # AUTOCOMMIT: asyncpg sends no BEGIN, and the pool's reset on return has nothing to
        # roll back; SQLAlchemy sets and resets the mode on the connection without a round trip.
        reads = engine.execution_options(isolation_level="AUTOCOMMIT") if postgres else engine
        super().__init__(reads, direct=(engine.dialect.name, engine.dialect.driver) in _DRIVERS)
        self.autocommit = postgres

    def connect(self) -> ReadConnection:
        """A read connection, for `async with`: closed (its pooled connection returned) on
        the way out, whatever happened inside. The connection is its own context manager, not
        a generator-based one (~3 % of a feed request's CPU went to contextlib's machinery)."""
        return ReadConnection(self)
