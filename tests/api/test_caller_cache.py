"""The caller cache through HTTP on the SQL backends: with its signal running (as the lifespan
runs it), a signed-in caller's repeat request skips the caller lookup on Postgres; SQLite never
caches; a change through the API applies on the next request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.cache.callers import ProcessCallerCache
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.api.helpers import publish, register
from tests.api.test_queries import AUTH_STATEMENTS, counting
from tests.fakes.clock import TickingClock
from tests.infra import Storage

ARTICLE_STATEMENTS = 1  # the article, with its author, flags and tags


@pytest.fixture
async def served(
    settings: Settings, sql_storage: Storage, clock: TickingClock
) -> AsyncIterator[tuple[FastAPI, ProcessCallerCache]]:
    container = build_container(settings, sql_storage.infra, clock=clock)
    callers = container.resolve(ProcessCallerCache)
    async with sql_storage.infra.storage.watch_callers(callers):
        if sql_storage.name == "postgres":
            async with asyncio.timeout(10):  # bounded: the signal connects in milliseconds
                while callers.ticket() is None:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
        yield create_app(settings, container=container), callers


@pytest.fixture
async def http(served: tuple[FastAPI, ProcessCallerCache]) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=served[0])
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
def engine(sql_storage: Storage) -> AsyncEngine:
    assert sql_storage.engine is not None
    return sql_storage.engine


async def test_a_repeat_request_skips_the_caller_lookup_on_postgres_only(
    http: httpx2.AsyncClient, engine: AsyncEngine, sql_storage: Storage
) -> None:
    jake = await register(http, "jake")
    slug = (await publish(http, jake, "Hello"))["slug"]
    await http.get(f"/api/articles/{slug}", headers=jake.auth)  # the lookup fills the cache

    with counting(engine) as statements:
        response = await http.get(f"/api/articles/{slug}", headers=jake.auth)

    assert response.status_code == 200
    cached = sql_storage.name == "postgres"
    assert len(statements) == ARTICLE_STATEMENTS + (0 if cached else AUTH_STATEMENTS)


async def test_a_deactivation_through_the_api_refuses_the_cached_caller_at_once(
    http: httpx2.AsyncClient, served: tuple[FastAPI, ProcessCallerCache], engine: AsyncEngine
) -> None:
    jake = await register(http, "jake")
    assert (await http.get("/api/user", headers=jake.auth)).status_code == 200
    root = await register(http, "root")
    async with engine.begin() as connection:  # an admin, made by hand
        await connection.exec_driver_sql("UPDATE users SET role = 'admin' WHERE username = 'root'")
    served[1].resume()  # forget root's cached role: the hand-made change sent no signal

    changed = await http.patch("/api/admin/users/jake", json={"active": False}, headers=root.auth)

    assert changed.status_code == 200, changed.text
    assert (await http.get("/api/user", headers=jake.auth)).status_code == 401
