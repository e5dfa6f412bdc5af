"""The code's migrations against a SQL database: Alembic's config, upgrading, the start check."""

from __future__ import annotations

import ast
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
    """The head revision of migrations/versions and every revision there.

    Read from each file's `revision` and `down_revision` constants, as Alembic reads them,
    without importing Alembic: it brings Mako and Pygments with it, about 9 MB that every
    serving worker would keep for a check done once at start (issue 10). A test checks
    that this agrees with Alembic's ScriptDirectory."""
    return migrations_in(MIGRATIONS_DIR / "versions")


def migrations_in(versions: Path) -> Migrations:
    """The migration scripts in this folder: their one head, and every revision."""
    parents: dict[str, tuple[str, ...]] = {}
    for path in sorted(versions.glob("*.py")):
        constants = _module_constants(path, ("revision", "down_revision"))
        revision = constants.get("revision")
        if not isinstance(revision, str):
            continue  # not a migration script (Alembic skips it too)
        down = constants.get("down_revision")
        if isinstance(down, str):
            parents[revision] = (down,)
        elif isinstance(down, tuple | list):  # a merge of several revisions
            parents[revision] = tuple(str(parent) for parent in down)
        else:  # None: the first revision
            parents[revision] = ()
    children = {parent for ps in parents.values() for parent in ps}
    heads = [revision for revision in parents if revision not in children]
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads; merge them into one")
    return Migrations(head=heads[0], known=frozenset(parents))


def _module_constants(path: Path, names: tuple[str, ...]) -> dict[str, object]:
    """The literal values a module assigns to these names at its top level."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        targets: list[ast.expr]
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names:
                found[target.id] = ast.literal_eval(value)
    return found


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
