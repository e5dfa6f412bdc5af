"""Integration fixtures: fresh, empty databases (not migrated) for migration tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.infra import ADMIN_URL, RUN_ID, _asyncpg_dsn, unavailable

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
