"""Integration fixtures: fresh, empty databases (not migrated) for migration tests, and an
HTTP client of the app on each SQL backend (the concurrency tests)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx2
import pytest
from sqlalchemy.engine import make_url

from entrypoints.container import build_container
from entrypoints.settings import Settings
from tests.apps import app_serving
from tests.fakes.clock import TickingClock
from tests.infra import ADMIN_URL, RUN_ID, Storage, _asyncpg_dsn, unavailable

FRESH_DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


async def _create_postgres_database(name: str) -> str:
    admin = await asyncpg.connect(_asyncpg_dsn(ADMIN_URL), timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


async def _drop_postgres_database(name: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(ADMIN_URL), timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=FRESH_DATABASES)
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a database with no tables: a new SQLite file, or a throwaway Postgres
    database of this run (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"conduit_test_{RUN_ID}_mig_{uuid.uuid4().hex[:8]}"
    try:
        url = await _create_postgres_database(name)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        unavailable("PostgreSQL", exc)
        raise AssertionError("unreachable") from exc
    try:
        yield url
    finally:
        await _drop_postgres_database(name)


@pytest.fixture
async def sql_client(
    settings: Settings, sql_storage: Storage, clock: TickingClock
) -> AsyncIterator[httpx2.AsyncClient]:
    app = app_serving(settings, build_container(settings, sql_storage.infra, clock=clock))
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
