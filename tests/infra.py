"""Test infrastructure: the real Postgres/Redis for this run, storage backends, app containers.

Postgres: each test run creates its own database (conduit_test_<pid>_<random>) on the server
from TEST_POSTGRES_URL, migrates it with Alembic once, truncates its tables before each test
and drops it at the end; nothing else on the server is touched. When the server is down the
tests that need it skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.store import MemoryDatabase
from adapters.sql.engine import make_engine
from adapters.sql.schema import Migrations
from adapters.sql.tables import metadata
from entrypoints.lifespan import Infrastructure
from entrypoints.storage.backend import StorageBackend
from entrypoints.storage.memory import MemoryStorage
from entrypoints.storage.postgres import PostgresStorage
from entrypoints.storage.registry import BACKENDS, backend_for
from entrypoints.storage.schema import migrate
from entrypoints.storage.sql import SqlStorage
from entrypoints.storage.sqlite import SqliteStorage
from tests.fakes.passwords import FakePasswordHasher

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
T = TypeVar("T")
RUN_ID = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"


def unavailable(what: str, why: object) -> None:
    """Skip locally; fail under CI=true, where a missing service is a broken build."""
    message = f"{what} is not available: {why}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing service fails the run)", pytrace=False)
    pytest.skip(message)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_run_database() -> str:
    """Create this run's database and migrate it; returns its SQLAlchemy URL."""
    name = f"conduit_test_{RUN_ID}"
    admin = await asyncpg.connect(_asyncpg_dsn(ADMIN_URL), timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    return url


async def drop_run_database(url: str) -> None:
    name = make_url(url).database
    admin = await asyncpg.connect(_asyncpg_dsn(ADMIN_URL), timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def run_sync(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even inside a running event loop
    (session fixtures may be first requested from an async test): in a fresh thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coro_fn())).result()


async def truncate(engine: AsyncEngine) -> None:
    # DELETE beats TRUNCATE on tables this small (~7 ms against ~150 ms per test).
    async with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


async def sqlite_engine(path: str) -> AsyncEngine:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return engine


def sql_storage_over(engine: AsyncEngine, migrations: Migrations | None = None) -> SqlStorage:
    """The registered SQL backend for the engine's driver, over an engine a test made."""
    backend = backend_for(engine.url.render_as_string(hide_password=True))
    assert issubclass(backend, SqlStorage), backend
    return backend(engine, migrations)


async def _memory(tmp_dir: str, pg_url: str | None) -> StorageBackend:
    return MemoryStorage()


async def _sqlite(tmp_dir: str, pg_url: str | None) -> StorageBackend:
    # A new file per test, its tables made by create_all: much faster than migrating it.
    return SqliteStorage(await sqlite_engine(os.path.join(tmp_dir, "test.db")))


async def _postgres(tmp_dir: str, pg_url: str | None) -> StorageBackend:
    assert pg_url is not None
    engine = make_engine(pg_url, pool_size=5)
    await truncate(engine)
    return PostgresStorage(engine)


@dataclass(frozen=True)
class StorageSetup:
    """How the tests open a registered backend, empty, for one test: `open(tmp_dir, pg_url)`.
    `postgres`: it needs this run's Postgres database (the tests are marked `postgres`)."""

    open: Callable[[str, str | None], Awaitable[StorageBackend]]
    postgres: bool = False


# One entry per backend in entrypoints.storage.registry.BACKENDS, by name.
STORAGE_SETUPS: dict[str, StorageSetup] = {
    MemoryStorage.name: StorageSetup(_memory),
    SqliteStorage.name: StorageSetup(_sqlite),
    PostgresStorage.name: StorageSetup(_postgres, postgres=True),
}


def setup_for(name: str) -> StorageSetup:
    try:
        return STORAGE_SETUPS[name]
    except KeyError:
        raise LookupError(f"storage backend {name!r} has no entry in STORAGE_SETUPS") from None


def storage_params(*, sql_only: bool = False) -> list[object]:
    """A pytest parameter per registered backend (its name), marked `postgres` if it needs it."""
    return [
        pytest.param(backend.name, marks=[pytest.mark.postgres] if setup.postgres else [])
        for backend in BACKENDS
        if not sql_only or issubclass(backend, SqlStorage)
        for setup in [setup_for(backend.name)]
    ]


@dataclass
class Storage:
    """One storage backend for a test: its name, and infrastructure wired with fast fakes."""

    name: str
    infra: Infrastructure

    @property
    def engine(self) -> AsyncEngine | None:
        """The database, on SQL storage (for tests that look at what was stored)."""
        backend = self.infra.storage
        return backend.engine if isinstance(backend, SqlStorage) else None

    @property
    def memory(self) -> MemoryDatabase | None:
        """The in-process database, on memory storage (for tests that look at what was stored)."""
        backend = self.infra.storage
        return backend.db if isinstance(backend, MemoryStorage) else None


@asynccontextmanager
async def open_storage(name: str, *, tmp_dir: str, pg_url: str | None) -> AsyncIterator[Storage]:
    backend = await setup_for(name).open(tmp_dir, pg_url)
    try:
        yield Storage(name, Infrastructure(hasher=FakePasswordHasher(), storage=backend))
    finally:
        await backend.close()


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_PREFIX = f"conduit-test:{RUN_ID}:"


async def delete_prefixed(url: str, prefix: str) -> None:
    """Remove every key this run wrote (other runs use other prefixes)."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def ping_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()
