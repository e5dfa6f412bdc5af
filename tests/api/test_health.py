"""Health probes: /health/live never asks a dependency; /health/ready asks each one, briefly."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import make_engine
from entrypoints.lifespan import Infrastructure, open_redis
from entrypoints.storage.memory import MemoryStorage
from entrypoints.storage.postgres import PostgresStorage
from tests.apps import memory_app
from tests.fakes.passwords import FakePasswordHasher
from tests.infra import Storage

CLOSED_PORT = 1


def client_for(infra: Infrastructure, **settings: Any) -> httpx2.AsyncClient:
    app = memory_app(infra, **settings)
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def dead_postgres() -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{CLOSED_PORT}/x")
    yield engine
    await engine.dispose()


@pytest.fixture
async def dead_redis() -> AsyncIterator[Redis]:
    client = open_redis(f"redis://127.0.0.1:{CLOSED_PORT}/0")
    yield client
    await client.aclose()


def assert_unavailable(response: httpx2.Response, *failed: str) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert set(body) == {"errors", "code", "requestId"}
    assert body["code"] == "unavailable"
    assert set(body["errors"]) == set(failed)
    assert response.headers["retry-after"]


async def test_ready_lists_the_database_as_ok_on_every_storage(storage: Storage) -> None:
    async with client_for(storage.infra) as http:
        response = await http.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.redis
async def test_ready_also_asks_redis_when_it_is_configured(redis_url: str) -> None:
    redis = open_redis(redis_url)
    infra = Infrastructure(hasher=FakePasswordHasher(), storage=MemoryStorage(), redis=redis)
    try:
        async with client_for(infra) as http:
            response = await http.get("/health/ready")
    finally:
        await redis.aclose()

    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


async def test_ready_says_redis_is_degraded_when_it_is_down_and_limits_fail_open(
    dead_redis: Redis,
) -> None:
    infra = Infrastructure(hasher=FakePasswordHasher(), storage=MemoryStorage(), redis=dead_redis)
    async with client_for(infra, rate_limit_fail_mode="open") as http:
        response = await http.get("/health/ready")

    # The service serves without Redis (limits let requests through), and every instance
    # shares that Redis: failing readiness would take them all out of the load balancer.
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "degraded"}}


async def test_ready_is_503_naming_redis_when_it_is_down_and_limits_fail_closed(
    dead_redis: Redis,
) -> None:
    infra = Infrastructure(hasher=FakePasswordHasher(), storage=MemoryStorage(), redis=dead_redis)
    async with client_for(infra, rate_limit_fail_mode="closed") as http:
        response = await http.get("/health/ready")

    assert_unavailable(response, "redis")


async def test_ready_says_degraded_without_asking_redis_while_the_breaker_is_open(
    silent_port: int,
) -> None:
    hung = open_redis(f"redis://127.0.0.1:{silent_port}/0", timeout_s=0.05)
    infra = Infrastructure(hasher=FakePasswordHasher(), storage=MemoryStorage(), redis=hung)
    try:
        async with client_for(infra, redis_breaker_failures=2) as http:
            for _ in range(2):  # two timeouts open the breaker
                assert (await http.get("/health/ready")).json()["checks"]["redis"] == "degraded"
            skipped = skipped_calls((await http.get("/metrics")).text)
            response = await http.get("/health/ready")
            metrics = (await http.get("/metrics")).text
    finally:
        await hung.aclose()

    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "degraded"}}
    assert skipped_calls(metrics) == skipped + 1  # not one more timeout
    assert "conduit_redis_circuit_open 1.0" in metrics


def skipped_calls(metrics: str) -> float:
    line = next(x for x in metrics.splitlines() if x.startswith("conduit_redis_skipped_total "))
    return float(line.split()[1])


async def test_ready_is_503_naming_the_database_when_it_is_down(
    dead_postgres: AsyncEngine,
) -> None:
    async with client_for(
        Infrastructure(hasher=FakePasswordHasher(), storage=PostgresStorage(dead_postgres))
    ) as http:
        response = await http.get("/health/ready")

    assert_unavailable(response, "database")
    assert response.json()["errors"]["database"][0].startswith("is not answering")


async def test_ready_names_both_when_both_are_down(
    dead_postgres: AsyncEngine, dead_redis: Redis
) -> None:
    infra = Infrastructure(
        hasher=FakePasswordHasher(), storage=PostgresStorage(dead_postgres), redis=dead_redis
    )
    async with client_for(infra, rate_limit_fail_mode="closed") as http:
        response = await http.get("/health/ready")

    assert_unavailable(response, "database", "redis")


async def test_ready_answers_within_about_a_second_when_the_database_hangs(
    silent_port: int,
) -> None:
    engine = make_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{silent_port}/x")
    try:
        async with client_for(
            Infrastructure(hasher=FakePasswordHasher(), storage=PostgresStorage(engine))
        ) as http:
            started = time.perf_counter()
            response = await http.get("/health/ready")
            elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()

    assert_unavailable(response, "database")
    assert response.json()["errors"]["database"] == ["did not answer within 1 s"]
    assert 0.9 < elapsed < 3


async def test_live_is_200_even_when_every_dependency_is_down(
    dead_postgres: AsyncEngine, dead_redis: Redis
) -> None:
    infra = Infrastructure(
        hasher=FakePasswordHasher(), storage=PostgresStorage(dead_postgres), redis=dead_redis
    )
    async with client_for(infra) as http:
        live = await http.get("/health/live")
        ready = await http.get("/health/ready")

    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert ready.status_code == 503


@pytest.mark.parametrize("path", ["/api/health/live", "/api/v1/health/ready"])
async def test_probes_live_at_the_root_not_under_the_api(storage: Storage, path: str) -> None:
    async with client_for(storage.infra) as http:
        response = await http.get(path)

    assert response.status_code == 404


@pytest.mark.parametrize("storage", ["memory"], indirect=True)
async def test_probes_are_documented_under_the_health_tag(storage: Storage) -> None:
    async with client_for(storage.infra) as http:
        document = (await http.get("/api/v1/openapi.json")).json()

    ready = document["paths"]["/health/ready"]["get"]
    assert ready["tags"] == ["health"]
    assert document["paths"]["/health/live"]["get"]["tags"] == ["health"]
    error = ready["responses"]["503"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/ErrorResponse"}
    schema = document["components"]["schemas"]["ErrorResponse"]
    assert set(schema["required"]) == {"errors", "code", "requestId"}


async def test_ready_answers_503_draining_once_shutdown_began() -> None:
    infra = Infrastructure(hasher=FakePasswordHasher(), storage=MemoryStorage())
    infra.drain.begin()  # what SIGTERM does (entrypoints/shutdown.py)
    async with client_for(infra) as http:
        ready = await http.get("/health/ready")
        live = await http.get("/health/live")

    assert_unavailable(ready, "shutdown")
    assert ready.json()["errors"] == {"shutdown": ["draining"]}
    assert live.status_code == 200  # draining is no reason to restart the process
