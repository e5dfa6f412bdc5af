"""Fixtures shared by every suite: storage backends (memory, SQLite, Postgres) and apps."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx2
import punq
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from adapters.memory.cache import InMemoryCache
from adapters.redis.cache import RedisCache
from core.shared.cache import Cache
from entrypoints.container import build_container
from entrypoints.settings import Settings
from tests.apps import TEST_SECRET, app_serving
from tests.fakes.clock import TickingClock
from tests.infra import (
    REDIS_PREFIX,
    REDIS_URL,
    Storage,
    create_run_database,
    delete_prefixed,
    drop_run_database,
    open_storage,
    ping_redis,
    run_sync,
    setup_for,
    storage_params,
    unavailable,
)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """This run's own, migrated Postgres database (created once, dropped at the end)."""
    try:
        url = run_sync(create_run_database)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        unavailable("PostgreSQL", exc)
        raise AssertionError("unreachable") from exc
    yield url
    run_sync(lambda: drop_run_database(url))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The real Redis; tests namespace their keys under this run's prefix (see redis_prefix)."""
    from redis.exceptions import RedisError

    try:
        run_sync(lambda: ping_redis(REDIS_URL))
    except (OSError, RedisError) as exc:
        unavailable("Redis", exc)
        raise AssertionError("unreachable") from exc
    yield REDIS_URL
    run_sync(lambda: delete_prefixed(REDIS_URL, REDIS_PREFIX))


@pytest.fixture
def redis_prefix(request: pytest.FixtureRequest) -> str:
    """A key prefix unique to this run and this test."""
    return f"{REDIS_PREFIX}{request.node.nodeid}:"


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


# Every backend in entrypoints.storage.registry, by name: memory, sqlite, postgres.
@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    """The Cache port: the in-memory fake and Redis (under this test's key prefix)."""
    if request.param == "memory":
        yield InMemoryCache()
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    try:
        yield RedisCache(client, prefix=request.getfixturevalue("redis_prefix"))
    finally:
        await client.aclose()


STORAGES = storage_params()
SQL_STORAGES = storage_params(sql_only=True)


async def _storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    name: str = request.param
    url = request.getfixturevalue("pg_url") if setup_for(name).postgres else None
    async with open_storage(name, tmp_dir=str(tmp_path), pg_url=url) as storage:
        yield storage


@pytest.fixture(params=STORAGES)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """Every registered backend: the in-memory one, SQLite and Postgres."""
    async for s in _storage(request, tmp_path):
        yield s


@pytest.fixture(params=SQL_STORAGES)
async def sql_storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """The real databases only (statement counts, concurrency)."""
    async for s in _storage(request, tmp_path):
        yield s


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word: a Redis or Postgres stopped
    with SIGSTOP, or hung."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield int(server.getsockname()[1])


@pytest.fixture
def settings() -> Settings:
    # Rate limits off: tests make many requests from one address; tests/security/test_rate_limits.py
    # turns them on.
    return Settings(
        environment="test",
        secret_key=TEST_SECRET,
        database_url="memory://",
        rate_limit_enabled=False,
    )


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()


@pytest.fixture
def container(settings: Settings, storage: Storage, clock: TickingClock) -> punq.Container:
    return build_container(settings, storage.infra, clock=clock)


@pytest.fixture
def app(settings: Settings, container: punq.Container) -> FastAPI:
    return app_serving(settings, container)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def pytest_configure(config: pytest.Config) -> None:
    # The live servers the tests start (and stop with SIGTERM) have no load balancer to tell:
    # no drain, unless a test asks for one (tests/faults/test_shutdown_drain.py).
    os.environ["SHUTDOWN_DRAIN_DELAY"] = "0"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--inner-loop",
        action="store_true",
        help="the fast subset (make unit): no Postgres, Redis, live servers or integration "
        "tests, and the API and security suites on the in-memory backend only",
    )


_SERVICES = ("postgres", "redis", "e2e", "integration", "faults")
_FAULTS = "tests/faults/"
_MEMORY_ONLY = ("tests/api/", "tests/security/")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The fault suite (live processes, real Postgres and Redis) runs in `make test`, never in
    # the inner loop: every test under tests/faults/ is marked, whoever wrote it.
    for item in items:
        if item.nodeid.startswith(_FAULTS):
            item.add_marker(pytest.mark.faults)
    if not config.getoption("--inner-loop"):
        return
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        backends = {params[name] for name in ("storage", "sql_storage") if name in params}
        memory_only = item.nodeid.startswith(_MEMORY_ONLY)
        if any(item.get_closest_marker(m) for m in _SERVICES) or (
            memory_only and backends - {"memory"}
        ):
            dropped.append(item)
        else:
            kept.append(item)
    config.hook.pytest_deselected(items=dropped)
    items[:] = kept
