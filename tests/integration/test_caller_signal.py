"""The caller cache's change signal on Postgres (LISTEN/NOTIFY): two caches, each with its own
listening connection, as two processes would have them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.cache.callers import ProcessCallerCache
from adapters.sql.callers import PostgresCallerSignal
from adapters.sql.engine import dispose_engine, make_engine
from adapters.sql.uow import SqlAlchemyUnitOfWork
from core.auth.authentication import ForgetChangedCallers
from core.users.model import Role, User
from entrypoints.storage.sql import SqlStorage
from tests.builders import a_user
from tests.infra import _asyncpg_dsn, open_storage

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

WAIT_S = 5.0  # bounded waits: generous for a loaded machine, never a timing assertion


class Process:
    """One process's caller cache, its signal running, and its unit of work."""

    def __init__(self, cache: ProcessCallerCache, signal: PostgresCallerSignal) -> None:
        self.cache, self.signal = cache, signal

    def holds(self, user: User) -> bool:
        return self.cache.get(user.id) is not None

    def fill(self, user: User) -> None:
        ticket = self.cache.ticket()
        assert ticket is not None
        self.cache.put(user, ticket)


Processes = tuple[Process, Process, SqlAlchemyUnitOfWork]


@pytest.fixture
async def processes(tmp_path: Path, pg_url: str) -> AsyncIterator[Processes]:
    async with open_storage("postgres", tmp_dir=str(tmp_path), pg_url=pg_url) as storage:
        backend = storage.infra.storage
        assert isinstance(backend, SqlStorage)
        stop = asyncio.Event()
        engines: list[AsyncEngine] = []
        tasks: list[asyncio.Task[None]] = []
        made: list[Process] = []
        for _ in range(2):
            cache = ProcessCallerCache(listening=False)
            engine = make_engine(pg_url, pool_size=1)
            signal = PostgresCallerSignal(engine, cache, retry_s=0.5, ping_interval_s=0.2)
            engines.append(engine)
            tasks.append(asyncio.create_task(signal.run(stop)))
            made.append(Process(cache, signal))
        a, b = made
        try:
            async with asyncio.timeout(WAIT_S):
                for process in made:
                    await process.signal.connected.wait()
            yield a, b, SqlAlchemyUnitOfWork(backend.engine, [ForgetChangedCallers(a.cache)])
        finally:
            stop.set()
            await asyncio.gather(*tasks)
            for engine in engines:
                await dispose_engine(engine)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT_S):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def add(uow: SqlAlchemyUnitOfWork, user: User) -> None:
    async with uow.begin() as tx:
        await tx.users.add(user)
        await tx.commit()


async def test_a_committed_deactivation_is_forgotten_by_every_process(processes: Processes) -> None:
    a, b, uow = processes
    user = a_user()
    await add(uow, user)
    a.fill(user)
    b.fill(user)

    async with uow.begin() as tx:
        await tx.users.set_access(user.id, role=Role.USER, active=False)
        await tx.commit()

    assert not a.holds(user)  # the committing process: before commit() returned
    await until(lambda: not b.holds(user))  # the other: when its signal hears it


@pytest.mark.parametrize("change", ["set_access", "bump_token_version", "update"])
async def test_every_write_of_a_users_row_signals_it(processes: Processes, change: str) -> None:
    _, b, uow = processes
    user = a_user()
    await add(uow, user)
    b.fill(user)

    async with uow.begin() as tx:
        if change == "set_access":
            await tx.users.set_access(user.id, role=Role.ADMIN, active=True)
        elif change == "bump_token_version":
            await tx.users.bump_token_version(user.id)
        else:
            await tx.users.update(user)
        await tx.commit()

    await until(lambda: not b.holds(user))


async def test_a_rolled_back_change_signals_nothing(processes: Processes) -> None:
    _, b, uow = processes
    kept, other = a_user(), a_user(username="other", email="other@x.io")
    await add(uow, kept)
    await add(uow, other)
    b.fill(kept)
    async with uow.begin() as tx:
        await tx.users.set_access(kept.id, role=Role.USER, active=False)  # no commit
    b.fill(other)

    async with uow.begin() as tx:
        await tx.users.bump_token_version(other.id)
        await tx.commit()
    # Notifications arrive in commit order: once the later one is heard, a rolled-back
    # one would have been heard before it.
    await until(lambda: not b.holds(other))
    assert b.holds(kept)


async def test_a_lost_signal_empties_and_bypasses_the_cache_until_it_is_back(
    processes: Processes, pg_url: str
) -> None:
    _, b, _ = processes
    user = a_user()
    b.fill(user)
    pid = b.signal.backend_pid
    assert pid is not None

    admin = await asyncpg.connect(_asyncpg_dsn(pg_url))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()

    await until(lambda: b.cache.ticket() is None)
    assert not b.holds(user)
    await until(lambda: b.signal.backend_pid != pid and b.cache.ticket() is not None)
    assert not b.holds(user)
