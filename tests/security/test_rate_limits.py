"""Rate limits through HTTP: per route class, per caller, headers on every limited answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.lifespan import Infrastructure
from entrypoints.settings import Settings
from entrypoints.storage.memory import MemoryStorage
from tests.apps import TEST_SECRET
from tests.fakes.clock import TickingClock
from tests.fakes.passwords import FakePasswordHasher
from tests.security.conftest import register


@pytest.fixture
async def limited() -> AsyncIterator[httpx2.AsyncClient]:
    settings = Settings(
        environment="test",
        secret_key=TEST_SECRET,
        database_url="memory://",
        rate_limit_auth="3/minute",
        rate_limit_write="4/minute",
        rate_limit_read="5/minute",
    )
    infra = Infrastructure(hasher=FakePasswordHasher(), storage=MemoryStorage())
    app = create_app(settings, container=build_container(settings, infra, clock=TickingClock()))
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_reads_carry_the_ratelimit_headers(limited: httpx2.AsyncClient) -> None:
    response = await limited.get("/api/tags")
    assert response.status_code == 200
    assert response.headers["RateLimit-Limit"] == "5"
    assert response.headers["RateLimit-Remaining"] == "4"
    assert int(response.headers["RateLimit-Reset"]) > 0


async def test_past_the_limit_the_answer_is_429_with_retry_after(
    limited: httpx2.AsyncClient,
) -> None:
    for _ in range(5):
        assert (await limited.get("/api/tags")).status_code == 200
    refused = await limited.get("/api/articles")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert "errors" in refused.json()


async def test_login_and_registration_have_their_own_strict_limit(
    limited: httpx2.AsyncClient,
) -> None:
    await register(limited, "a")
    await register(limited, "b")
    await register(limited, "c")
    response = await limited.post(
        "/api/users/login", json={"user": {"email": "a@example.com", "password": "x" * 10}}
    )
    assert response.status_code == 429
    assert (await limited.get("/api/tags")).status_code == 200  # reads are counted apart


async def test_errors_are_counted_and_carry_the_headers(limited: httpx2.AsyncClient) -> None:
    response = await limited.get("/api/articles/no-such-article")
    assert response.status_code == 404
    assert response.headers["RateLimit-Remaining"] == "4"


async def test_signed_in_users_are_limited_apart_from_their_address(
    limited: httpx2.AsyncClient,
) -> None:
    jake = await register(limited, "jake")
    for _ in range(5):
        await limited.get("/api/tags")  # the address's read quota is gone
    assert (await limited.get("/api/tags")).status_code == 429
    assert (await limited.get("/api/tags", headers=jake.auth)).status_code == 200


async def test_writes_are_limited_per_user(limited: httpx2.AsyncClient) -> None:
    jake = await register(limited, "jake")
    statuses = []
    for i in range(5):
        response = await limited.post(
            "/api/articles",
            json={"article": {"title": f"t{i}", "description": "d", "body": "b"}},
            headers=jake.auth,
        )
        statuses.append(response.status_code)
    assert statuses == [201, 201, 201, 201, 429]


async def test_cors_preflight_is_not_counted(limited: httpx2.AsyncClient) -> None:
    for _ in range(8):
        response = await limited.options(
            "/api/tags",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
        )
        assert response.status_code == 200
    assert (await limited.get("/api/tags")).headers["RateLimit-Remaining"] == "4"
