"""A provider that is down or hangs, through the whole app and its real HTTP client: 502 or
504 in the error schema, within OIDC_TIMEOUT_S (the callback's "nothing created" on a failing
provider: tests/api/test_oidc.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest

from entrypoints.container import build_container
from entrypoints.lifespan import open_oidc_http
from entrypoints.settings import Settings
from tests.api.helpers import MEMORY_ONLY, assert_error
from tests.apps import TEST_SECRET, app_serving
from tests.infra import Storage
from tests.oidc_live import free_port

pytestmark = MEMORY_ONLY
FRONT = "https://app.example.test/signed-in"
TIMEOUT_S = 0.5


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung provider)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


async def client_for(issuer: str, storage: Storage) -> AsyncIterator[httpx2.AsyncClient]:
    settings = Settings(
        environment="test",
        secret_key=TEST_SECRET,
        database_url="memory://",
        rate_limit_enabled=False,
        oidc_providers=[{"id": "acme", "issuer": issuer, "client_id": "c", "client_secret": "s"}],
        oidc_redirect_allowlist=FRONT,
        oidc_timeout_s=TIMEOUT_S,
    )
    http = open_oidc_http(settings)
    assert http is not None
    infra = dataclasses.replace(storage.infra, oidc_http=http)
    app = app_serving(settings, build_container(settings, infra))
    try:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
    finally:
        await http.aclose()


async def login(client: httpx2.AsyncClient) -> httpx2.Response:
    # Bounded from outside too: the test fails, rather than hangs, if the bound is broken.
    async with asyncio.timeout(TIMEOUT_S * 10):
        return await client.get("/api/auth/oidc/acme/login", params={"redirect_uri": FRONT})


async def test_a_provider_that_is_down_is_502(storage: Storage) -> None:
    closed = free_port()
    async for client in client_for(f"http://127.0.0.1:{closed}", storage):
        response = await login(client)

        assert "cannot be reached" in assert_error(response, 502, "provider")["provider"][0]
        assert response.json()["code"] == "bad_gateway"


async def test_a_provider_that_hangs_is_504_within_the_timeout(
    storage: Storage, silent_port: int
) -> None:
    async for client in client_for(f"http://127.0.0.1:{silent_port}", storage):
        response = await login(client)

        assert_error(response, 504, "provider")
        assert response.json()["code"] == "gateway_timeout"
