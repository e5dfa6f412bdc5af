"""Opens and closes the clients the adapters need (engine, pools) from Settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from loguru import logger
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations
from adapters.memory.store import MemoryDatabase
from adapters.security.passwords import Argon2PasswordHasher
from adapters.sql.engine import make_engine
from core.users.ports import PasswordHasher
from entrypoints.settings import Settings


@dataclass
class Infrastructure:
    """Long-lived clients, built once per process. Exactly one of engine / memory is set."""

    hasher: PasswordHasher
    engine: AsyncEngine | None = None
    memory: MemoryDatabase | None = None
    redis: Redis | None = None
    _closers: list[Argon2PasswordHasher] = field(default_factory=list)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def migrate(engine: AsyncEngine) -> None:
    """Upgrade the schema to head over the engine (works inside a running event loop)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)


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


async def open_infrastructure(settings: Settings) -> Infrastructure:
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
    if settings.uses_sqlite and settings.sqlite_auto_migrate:
        try:
            await migrate(infra.engine)
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
