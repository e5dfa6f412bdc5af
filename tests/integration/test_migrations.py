"""Alembic migrations on a fresh SQLite file and a fresh Postgres database: the stairway
(upgrade, downgrade, upgrade per revision) works and head matches adapters.sql.tables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import make_engine
from adapters.sql.tables import metadata
from entrypoints.storage.schema import alembic_config, migrate

SCHEMA_TABLES = {table.name for table in metadata.sorted_tables}


@pytest.fixture
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def _revisions_oldest_first(engine: AsyncEngine) -> list[str]:
    script = ScriptDirectory.from_config(_config(engine))
    return [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]


def _config(engine: AsyncEngine) -> Any:
    return alembic_config(engine.url.render_as_string(hide_password=False))


async def _alembic(engine: AsyncEngine, action: str, target: str) -> None:
    """`alembic upgrade|downgrade <target>` over the engine, sharing its connection (as
    entrypoints.storage.schema.migrate does), so that env.py starts no event loop of its own."""
    config = _config(engine)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        getattr(command, action)(config, target)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def _schema_diff(engine: AsyncEngine) -> list[Any]:
    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(diff)


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda c: set(inspect(c).get_table_names()))


async def test_upgrade_to_head_creates_exactly_the_declared_schema(engine: AsyncEngine) -> None:
    await migrate(engine)

    assert await _schema_diff(engine) == []
    assert await _tables(engine) == SCHEMA_TABLES | {"alembic_version"}


async def test_downgrade_to_base_removes_every_table(engine: AsyncEngine) -> None:
    await migrate(engine)

    await _alembic(engine, "downgrade", "base")

    assert await _tables(engine) == {"alembic_version"}


async def test_upgrade_after_downgrade_to_base_gives_the_declared_schema_again(
    engine: AsyncEngine,
) -> None:
    await migrate(engine)
    await _alembic(engine, "downgrade", "base")

    await migrate(engine)

    assert await _schema_diff(engine) == []


async def test_every_revision_downgrades_and_upgrades_again(engine: AsyncEngine) -> None:
    """The stairway: each step up can be taken back and taken again."""
    revisions = _revisions_oldest_first(engine)
    assert revisions, "no migrations found"

    for revision in revisions:
        await _alembic(engine, "upgrade", revision)
        await _alembic(engine, "downgrade", "-1")
        await _alembic(engine, "upgrade", revision)

    assert await _schema_diff(engine) == []
