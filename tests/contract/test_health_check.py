"""HealthCheck port: returns when the dependency answers, raises when it does not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from adapters.memory.health import InMemoryHealthCheck
from adapters.redis.health import RedisHealthCheck
from adapters.sql.engine import dispose_engine, make_engine
from adapters.sql.health import SqlHealthCheck
from core.shared.health import HealthCheck

CLOSED_PORT = 1  # nothing listens there: connection refused at once


class HealthCheckContract:
    async def test_check_returns_when_the_dependency_answers(self, healthy: HealthCheck) -> None:
        await healthy.check()  # raises if the dependency does not answer

    async def test_check_can_be_asked_again(self, healthy: HealthCheck) -> None:
        await healthy.check()
        await healthy.check()


class FailingHealthCheckContract:
    async def test_check_raises_when_the_dependency_is_down(self, down: HealthCheck) -> None:
        with pytest.raises(Exception):  # noqa: B017, PT011 - any failure means "not ready"
            await down.check()


class TestInMemoryHealthCheck(HealthCheckContract):
    @pytest.fixture
    def healthy(self) -> HealthCheck:
        return InMemoryHealthCheck()


class TestSqliteHealthCheck(HealthCheckContract, FailingHealthCheckContract):
    @pytest.fixture
    async def healthy(self, tmp_path: Path) -> AsyncIterator[HealthCheck]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'up.db'}")
        yield SqlHealthCheck(engine)
        await engine.dispose()

    @pytest.fixture
    async def down(self, tmp_path: Path) -> AsyncIterator[HealthCheck]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
        yield SqlHealthCheck(engine)
        await dispose_engine(engine)  # waits for aiosqlite's worker of the failed connect


@pytest.mark.postgres
class TestPostgresHealthCheck(HealthCheckContract, FailingHealthCheckContract):
    @pytest.fixture
    async def healthy(self, pg_url: str) -> AsyncIterator[HealthCheck]:
        engine = make_engine(pg_url, pool_size=1)
        yield SqlHealthCheck(engine)
        await engine.dispose()

    @pytest.fixture
    async def down(self) -> AsyncIterator[HealthCheck]:
        engine = make_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{CLOSED_PORT}/x")
        yield SqlHealthCheck(engine)
        await engine.dispose()


@pytest.mark.redis
class TestRedisHealthCheck(HealthCheckContract, FailingHealthCheckContract):
    @pytest.fixture
    def healthy(self, redis_client: Redis) -> HealthCheck:
        return RedisHealthCheck(redis_client)

    @pytest.fixture
    async def down(self) -> AsyncIterator[HealthCheck]:
        client = Redis.from_url(f"redis://127.0.0.1:{CLOSED_PORT}/0", socket_connect_timeout=1)
        yield RedisHealthCheck(client)
        await client.aclose()
