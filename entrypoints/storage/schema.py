"""The code's migrations against a SQL database: Alembic's config, upgrading, the start check."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from loguru import logger
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations
from adapters.sql.failures import explain_database_failure
from adapters.sql.schema import Migrations, SchemaRevision, revisions_on, schema_revision
from entrypoints.storage.backend import StartRefused

if TYPE_CHECKING:  # Alembic is imported only where a schema is migrated or checked
    from alembic.config import Config

MIGRATIONS_DIR = Path(migrations.__file__).parent
# How long the start-up schema check waits for the database before starting anyway.
SCHEMA_CHECK_TIMEOUT_S = 5.0


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@functools.cache
def code_migrations() -> Migrations:
    """The head revision of migrations/versions and every revision there."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    heads = script.get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads; merge them into one")
    known = frozenset(revision.revision for revision in script.walk_revisions())
    return Migrations(head=heads[0], known=known)


async def migrate(engine: AsyncEngine) -> SchemaRevision:
    """Upgrade the schema to head over the engine (works inside a running event loop).

    Returns where the schema stood before. A schema ahead of the code (migrated by newer
    code) is left alone: Alembic cannot downgrade from a revision it does not know.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    code = code_migrations()

    def upgrade(connection: Connection) -> SchemaRevision:
        from alembic import command

        before = SchemaRevision(revisions_on(connection), code)
        if before.behind:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return before

    async with engine.begin() as connection:
        return await connection.run_sync(upgrade)


def log_migration(before: SchemaRevision) -> None:
    if before.behind:
        logger.info("schema: upgraded from {} to {}", before.database_text, before.code.head)
    elif before.ahead:
        logger.warning("database schema {}; not migrating", before.describe())


async def check_schema_at_start(engine: AsyncEngine, code: Migrations) -> None:
    """Refuse to serve a schema behind the code (every query could fail); only warn when it
    is ahead (a rolling deploy migrates first) or when the database does not answer (the
    server starts; /health/ready answers 503 until the database and its schema are fine)."""
    try:
        async with asyncio.timeout(SCHEMA_CHECK_TIMEOUT_S):
            revision = await schema_revision(engine, code)
    except Exception as exc:  # not reachable now: serving starts anyway, readiness says so
        why = explain_database_failure(exc, engine.url) or f"not answering ({type(exc).__name__})"
        logger.warning("database: {}; starting anyway, /health/ready answers 503 meanwhile", why)
        return
    if revision.behind:
        raise StartRefused(f"database schema {revision.describe()}")
    if revision.ahead:
        logger.warning("database schema {}; serving anyway", revision.describe())
