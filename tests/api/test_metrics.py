"""GET /metrics through the ASGI app: request counts and latency by route template, requests
in flight, the database pool, Redis errors, and the METRICS_TOKEN guard. (Several worker
processes adding up: tests/e2e/test_observability_live.py.)"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql.engine import WaitCountingPool
from entrypoints.lifespan import Infrastructure, open_redis
from entrypoints.metrics import forget_dead_workers
from entrypoints.storage.memory import MemoryStorage
from entrypoints.storage.sqlite import SqliteStorage
from tests.apps import memory_app as make_app
from tests.fakes.passwords import FakePasswordHasher

TOKEN = "metrics-scraper-token-0123456789"
REQUESTS = "conduit_http_requests_total"


def client_of(app: FastAPI) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def http() -> AsyncIterator[httpx2.AsyncClient]:
    async with client_of(make_app()) as client:
        yield client


async def scrape(client: httpx2.AsyncClient, token: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels}` (labels may be a subset), summed; 0 when absent."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


def label_values(text: str, name: str, label: str) -> set[str]:
    return {
        sample.labels[label]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and label in sample.labels
    }


async def test_requests_are_counted_by_route_template_not_by_path(
    http: httpx2.AsyncClient,
) -> None:
    route = {"method": "GET", "route": "/api/articles/{slug}", "status": "404"}
    before = await scrape(http)
    for slug in ("no-such-article", "another-missing-one"):
        assert (await http.get(f"/api/articles/{slug}")).status_code == 404
    after = await scrape(http)
    assert value(after, REQUESTS, **route) == value(before, REQUESTS, **route) + 2
    duration = "conduit_http_request_duration_seconds_count"
    assert value(after, duration, **route) == value(before, duration, **route) + 2
    routes = label_values(after, REQUESTS, "route")
    assert not any("missing" in r or "no-such" in r for r in routes), routes


async def test_each_api_prefix_is_its_own_route_template(http: httpx2.AsyncClient) -> None:
    before = await scrape(http)
    assert (await http.get("/api/v1/tags")).status_code == 200
    after = await scrape(http)
    versioned = {"route": "/api/v1/tags", "status": "200"}
    plain = {"route": "/api/tags", "status": "200"}
    assert value(after, REQUESTS, **versioned) == value(before, REQUESTS, **versioned) + 1
    assert value(after, REQUESTS, **plain) == value(before, REQUESTS, **plain)


async def test_paths_no_route_matches_are_counted_as_unmatched(
    http: httpx2.AsyncClient,
) -> None:
    labels = {"route": "unmatched", "status": "404"}
    before = value(await scrape(http), REQUESTS, **labels)
    assert (await http.get("/wp-admin/install.php")).status_code == 404
    after = await scrape(http)
    assert value(after, REQUESTS, **labels) == before + 1
    assert "/wp-admin/install.php" not in label_values(after, REQUESTS, "route")


async def test_unknown_methods_are_counted_as_other(http: httpx2.AsyncClient) -> None:
    before = value(await scrape(http), REQUESTS, method="OTHER")
    await http.request("BREW", "/api/tags")
    after = await scrape(http)
    assert value(after, REQUESTS, method="OTHER") == before + 1
    assert "BREW" not in label_values(after, REQUESTS, "method")


async def test_a_request_being_handled_is_in_flight(http: httpx2.AsyncClient) -> None:
    in_flight = "conduit_http_requests_in_flight"
    alone = value(await scrape(http), in_flight)  # the scrape itself
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield b'{"user": {"email": "jake@example.com",'
        await release.wait()
        yield b' "password": "correct horse battery"}}'

    slow = asyncio.create_task(
        http.post(
            "/api/users/login",
            content=slow_body(),
            headers={"Content-Type": "application/json"},
        )
    )
    try:
        for _ in range(100):
            during = value(await scrape(http), in_flight)
            if during > alone:
                break
            await asyncio.sleep(0.01)
        assert during == alone + 1
    finally:
        release.set()
        await slow
    assert value(await scrape(http), in_flight) == alone


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Token {TOKEN}", TOKEN, f"Bearer {TOKEN}x", "Bearer"],
)
async def test_metrics_refuse_a_missing_or_wrong_token_when_one_is_set(
    authorization: str | None,
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with client_of(make_app(metrics_token=SecretStr(TOKEN))) as http:
        response = await http.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert list(response.json()["errors"]) == ["body"]
    assert "conduit_http_requests" not in response.text


async def test_metrics_answer_the_right_bearer_token_when_one_is_set() -> None:
    async with client_of(make_app(metrics_token=SecretStr(TOKEN))) as http:
        text = await scrape(http, token=TOKEN)
    assert "# TYPE conduit_http_requests_total counter" in text


async def test_metrics_are_open_when_no_token_is_set(http: httpx2.AsyncClient) -> None:
    assert "# TYPE conduit_http_request_duration_seconds histogram" in await scrape(http)


async def test_metrics_are_left_out_of_the_api_document(http: httpx2.AsyncClient) -> None:
    document = (await http.get("/api/v1/openapi.json")).json()
    assert "/metrics" not in document["paths"]


async def test_the_database_pool_shows_connections_in_use_and_callers_waiting(
    tmp_path: Path,
) -> None:
    # One connection and no overflow, so that a second caller has to wait.
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}",
        poolclass=WaitCountingPool,
        pool_size=1,
        max_overflow=0,
    )
    infra = Infrastructure(hasher=FakePasswordHasher(), storage=SqliteStorage(engine))
    in_use, waiting = "conduit_db_pool_connections_in_use", "conduit_db_pool_waiting"
    try:
        async with client_of(make_app(infra)) as http:
            idle = await scrape(http)
            async with engine.connect():
                held = await scrape(http)
                queued = asyncio.create_task(engine.connect().start())
                for _ in range(100):
                    blocked = await scrape(http)
                    if value(blocked, waiting) > value(idle, waiting):
                        break
                    await asyncio.sleep(0.01)
            second = await queued
            await second.close()
            done = await scrape(http)
    finally:
        await engine.dispose()
    assert value(held, in_use) == value(idle, in_use) + 1
    assert value(blocked, waiting) == value(idle, waiting) + 1
    assert value(done, in_use) == value(idle, in_use)
    assert value(done, waiting) == value(idle, waiting)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once the socket closes


async def test_redis_errors_are_counted_by_operation() -> None:
    redis = open_redis(f"redis://127.0.0.1:{closed_port()}/0")
    infra = Infrastructure(hasher=FakePasswordHasher(), storage=MemoryStorage(), redis=redis)
    errors = "conduit_redis_errors_total"
    try:
        async with client_of(make_app(infra)) as http:
            before = await scrape(http)
            login = {"user": {"email": "nobody@example.com", "password": "wrong password"}}
            response = await http.post("/api/users/login", json=login)
            after = await scrape(http)
    finally:
        await redis.aclose()
    assert response.status_code == 401  # rate limiter and attempt counter both fail open
    for operation in ("rate_limit.hit", "attempts.status"):
        assert value(after, errors, operation=operation) > value(
            before, errors, operation=operation
        )


def test_the_live_gauges_of_dead_workers_are_forgotten(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead, alive = int(gone.stdout), os.getpid()
    for name in (
        f"gauge_livesum_{dead}.db",
        f"counter_{dead}.db",
        f"gauge_livesum_{alive}.db",
    ):
        (tmp_path / name).write_bytes(b"")
    forget_dead_workers(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"counter_{dead}.db",  # counts stay: they happened
        f"gauge_livesum_{alive}.db",
    ]


async def test_request_series_are_remembered_per_label_set_and_still_counted(
    http: httpx2.AsyncClient,
) -> None:
    """EdgeMiddleware keeps each (method, route, status) series it counted into (issue 10):
    counts still add up, and methods a client makes up share the one OTHER series, so the
    remembered set grows with the label set only."""
    from entrypoints import metrics

    labels = {"method": "OTHER", "route": "/api/tags", "status": "405"}
    before = await scrape(http)
    for method in ("BREW", "WHEN", "PROPFIND"):
        assert (await http.request(method, "/api/tags")).status_code == 405
    after = await scrape(http)
    remembered = set(metrics._REQUEST_SERIES)

    assert value(after, REQUESTS, **labels) == value(before, REQUESTS, **labels) + 3
    assert ("OTHER", "/api/tags", 405) in remembered
    assert not any(m in {"BREW", "WHEN", "PROPFIND"} for m, _, _ in remembered)
