"""SqlAlchemyUnitOfWork: one Core connection per transaction; commit is the only commit."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import ClassVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import Pool

from adapters.sql.auth_repositories import SqlApiKeyRepository, SqlRefreshTokenRepository
from adapters.sql.constraints import domain_error_for
from adapters.sql.engine import (
    SQLITE_BUSY_TIMEOUT_S,
    ReadConnection,
    Reads,
    WriteConnection,
    Writes,
    connection_to,
    unavailable_on_disconnect,
    write_engine,
)
from adapters.sql.identities import SqlIdentityRepository
from adapters.sql.media import SqlUploadRepository
from adapters.sql.notifications import SqlNotificationRepository
from adapters.sql.outbox import SqlOutboxRepository, write_outbox
from adapters.sql.repositories import (
    SqlArticleRepository,
    SqlCommentRepository,
    SqlFavoriteRepository,
    SqlFollowRepository,
    SqlUserRepository,
)
from adapters.sql.webhooks import SqlWebhookRepository
from core.shared.events import CommitListener, DomainEvent, notify
from core.shared.outbox import messages_for


class SqlAlchemyTransaction:
    def __init__(
        self,
        connection: AsyncConnection | ReadConnection | WriteConnection,
        *,
        read_only: bool = False,
        listeners: Sequence[CommitListener] = (),
        committed: Callable[[], None] = lambda: None,
    ) -> None:
        self._connection = connection
        self._read_only = read_only
        self._listeners = listeners
        self._committed = committed  # told right after COMMIT, before the listeners
        self._events: list[DomainEvent] = []
        # Those of `_events` whose outbox rows a repository already wrote (with its own write).
        self._written: list[DomainEvent] = []
        self.users = SqlUserRepository(connection, self.record)
        self.follows = SqlFollowRepository(connection)
        self.articles = SqlArticleRepository(connection, self.record, self._record_written)
        self.comments = SqlCommentRepository(connection)
        self.favorites = SqlFavoriteRepository(connection)
        self.refresh_tokens = SqlRefreshTokenRepository(connection)
        self.api_keys = SqlApiKeyRepository(connection)
        self.outbox = SqlOutboxRepository(connection)
        self.notifications = SqlNotificationRepository(connection)
        self.uploads = SqlUploadRepository(connection)
        self.identities = SqlIdentityRepository(connection)  # issue 15
        self.webhooks = SqlWebhookRepository(connection)

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    def _record_written(self, event: DomainEvent) -> None:
        self._events.append(event)
        self._written.append(event)

    async def commit(self) -> None:
        connection = self._connection
        if self._read_only or isinstance(connection, ReadConnection):
            raise RuntimeError("commit() in a read-only transaction")
        try:
            # The events' outbox rows commit with the writes: one INSERT, none without events.
            events = self._events
            if self._written:  # compared by identity: equal events may both be recorded
                events = [e for e in events if not any(e is w for w in self._written)]
            await write_outbox(connection, messages_for(events))
            await connection.commit()
        except IntegrityError as exc:
            error = domain_error_for(exc)
            if error is None:
                raise
            raise error from exc
        self._committed()
        events, self._events, self._written = self._events, [], []
        await notify(self._listeners, events)


class SqlAlchemyUnitOfWork:
    """Stateless: holds the engine; each `begin()` is a fresh connection and transaction
    (begun by its first statement). Leaving the block without `commit()` rolls back (closing
    the connection does); a connection lost on the way answers Unavailable.

    `begin(read_only=True)` takes a read connection (adapters.sql.engine.Reads): on Postgres
    each statement in autocommit, no BEGIN/COMMIT, one rerun on a dead connection; on SQLite
    a deferred BEGIN, not the writers' BEGIN IMMEDIATE, so it takes no write lock."""

    def __init__(self, engine: AsyncEngine, listeners: Sequence[CommitListener] = ()) -> None:
        self._writes = write_engine(engine)
        # Postgres: write transactions on a WriteConnection (its hot statements on asyncpg).
        self._direct_writes = Writes(self._writes) if engine.dialect.name == "postgresql" else None
        self._reads = Reads(engine)
        self._listeners = tuple(listeners)
        self._sqlite_writers = WriterQueue.of(engine)

    @asynccontextmanager
    async def begin(self, *, read_only: bool = False) -> AsyncIterator[SqlAlchemyTransaction]:
        if read_only:
            async with self._reads.connect() as reader:
                yield SqlAlchemyTransaction(reader, read_only=True, listeners=self._listeners)
            return
        if self._direct_writes is not None:
            async with unavailable_on_disconnect(), self._direct_writes.connect() as writer:
                yield SqlAlchemyTransaction(writer, listeners=self._listeners)
            return
        # SQLite: the turn first, so that a transaction waiting for it holds no connection.
        async with (
            self._sqlite_writers.turn() as done,
            unavailable_on_disconnect(),
            connection_to(self._writes) as connection,
        ):
            yield SqlAlchemyTransaction(connection, listeners=self._listeners, committed=done)


class WriterQueue:
    """SQLite: this process's write transactions one at a time, in arrival order.

    SQLite has one write lock. Without a queue every pooled connection's BEGIN IMMEDIATE waits
    in SQLite's busy handler, which polls the lock with growing sleeps (up to 100 ms each): the
    lock sits free while its waiters sleep, so concurrent creations ran at a fraction of the
    floor's rate with a long tail. Here the others wait in the event loop and the next one
    goes as soon as the current one commits or ends. A wait longer than SQLite's busy timeout
    goes on without its turn (SQLite's own wait decides then, as before); other processes
    still meet at SQLite's lock."""

    _of_pools: ClassVar[weakref.WeakKeyDictionary[Pool, WriterQueue]] = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, engine: AsyncEngine) -> WriterQueue:
        """The queue of `engine`'s database: one per pool, whichever unit of work asks."""
        pool = engine.sync_engine.pool
        queue = cls._of_pools.get(pool)
        if queue is None:
            queue = cls._of_pools[pool] = cls(SQLITE_BUSY_TIMEOUT_S)
        return queue

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[Callable[[], None]]:
        """Waits for this transaction's turn; gives the callback that ends it early (after
        COMMIT: commit listeners may begin transactions of their own)."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        held = False
        try:
            async with asyncio.timeout(self._timeout_s):
                held = await lock.acquire()
        except TimeoutError:
            pass

        def done() -> None:
            nonlocal held
            if held:
                held = False
                lock.release()

        try:
            yield done
        finally:
            done()
