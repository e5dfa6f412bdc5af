"""Opens and closes the clients the adapters need (engine, pools) from Settings."""

from __future__ import annotations

import asyncio
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from loguru import logger
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations
from adapters.memory.store import MemoryDatabase
from adapters.security.passwords import Argon2PasswordHasher
from adapters.sql.engine import make_engine
from adapters.sql.failures import explain_database_failure
from adapters.sql.schema import Migrations, SchemaRevision, revisions_on, schema_revision
from core.users.ports import PasswordHasher
from entrypoints.settings import Settings

if TYPE_CHECKING:  # Alembic is imported only where a schema is migrated or checked
    from alembic.config import Config

MIGRATIONS_DIR = Path(migrations.__file__).parent
# user:password@ in a URL quoted by an unexpected error: the password is masked.
_USERINFO = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
# How long the start-up schema check waits for the database before starting anyway.
SCHEMA_CHECK_TIMEOUT_S = 5.0


class StartRefused(Exception):
    """The server must not start; the message is one line for the operator."""


@dataclass
class Infrastructure:
    """Long-lived clients, built once per process. Exactly one of engine / memory is set."""

    hasher: PasswordHasher
    engine: AsyncEngine | None = None
    memory: MemoryDatabase | None = None
    redis: Redis | None = None
    # The code's migrations, for the readiness check of the schema (SQL storage only).
    migrations: Migrations | None = None
    _closers: list[Argon2PasswordHasher] = field(default_factory=list)


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


def _log_migration(before: SchemaRevision) -> None:
    if before.behind:
        logger.info("schema: upgraded from {} to {}", before.database_text, before.code.head)
    elif before.ahead:
        logger.warning("database schema {}; not migrating", before.describe())


async def migrate_database(settings: Settings) -> SchemaRevision:
    """`migrate` over a short-lived engine for DATABASE_URL (`conduit migrate`)."""
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        return await migrate(engine)
    finally:
        await engine.dispose()


async def prepare_database(settings: Settings) -> None:
    """`conduit serve`, once before the workers start. SQLite with SQLITE_AUTO_MIGRATE:
    migrate (a failure raises). Otherwise: raise StartRefused when the schema is behind;
    a database that does not answer is left to each worker's start-up check, which says so."""
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        if settings.uses_sqlite and settings.sqlite_auto_migrate:
            _log_migration(await migrate(engine))
            return
        try:
            async with asyncio.timeout(SCHEMA_CHECK_TIMEOUT_S):
                revision = await schema_revision(engine, code_migrations())
        except Exception:  # reported by the workers, in one line, as they start anyway
            return
        if revision.behind:
            raise StartRefused(f"database schema {revision.describe()}")
    finally:
        await engine.dispose()


def describe_database_failure(exc: BaseException, settings: Settings) -> str:
    """One line for a failure of the database at DATABASE_URL; never the password."""
    url = make_url(settings.database_url)
    explained = explain_database_failure(exc, url)
    if explained is not None:
        return explained
    lines = str(exc).strip().splitlines()
    detail = _USERINFO.sub(r"\1***@", lines[0]) if lines else ""
    hint = "(LOG_LEVEL=DEBUG shows the traceback)"
    return f"{type(exc).__name__}: {detail} {hint}" if detail else f"{type(exc).__name__} {hint}"


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


def open_redis(url: str) -> Redis:
    # Short timeouts and one quick retry: a slow or dead Redis must degrade a request, never
    # hang it (redis-py's default retries with backoff take ~4 s to give up).
    return Redis.from_url(
        url,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), 1),
        health_check_interval=30,
        decode_responses=False,
    )


async def open_infrastructure(settings: Settings, *, check_schema: bool = True) -> Infrastructure:
    """The clients settings ask for. On SQL storage: SQLite migrates itself when
    SQLITE_AUTO_MIGRATE is on; otherwise the schema revision is checked (unless
    `check_schema` is off: a command about to migrate)."""
    hasher = Argon2PasswordHasher(
        max_workers=settings.password_hash_workers,
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
    )
    infra = Infrastructure(hasher=hasher, _closers=[hasher])
    if settings.redis_url:
        infra.redis = open_redis(settings.redis_url)
        logger.info("redis: {}", settings.redis_url.split("@")[-1])
    if settings.uses_memory:
        logger.info("storage: in memory (nothing is kept)")
        infra.memory = MemoryDatabase()
        return infra
    infra.engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    logger.info("storage: {}", infra.engine.url.render_as_string(hide_password=True))
    try:
        infra.migrations = code_migrations()
        if settings.uses_sqlite and settings.sqlite_auto_migrate:
            _log_migration(await migrate(infra.engine))
        elif check_schema:
            await check_schema_at_start(infra.engine, infra.migrations)
    except BaseException:
        await close_infrastructure(infra)  # a failed start leaves nothing open
        raise
    return infra


async def close_infrastructure(infra: Infrastructure) -> None:
    if infra.engine is not None:
        await infra.engine.dispose()
    if infra.redis is not None:
        await infra.redis.aclose()
    for closer in infra._closers:
        closer.close()
