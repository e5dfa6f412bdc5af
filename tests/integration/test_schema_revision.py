"""The schema revision of a database against the code's migrations: read from Alembic's
version table, reported by /health/ready as `schema`, and enforced when the server starts
(behind: refused; ahead: a warning; database down: a warning, and the server starts)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest
from alembic import command
from loguru import logger
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import make_engine
from adapters.sql.schema import schema_revision
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.lifespan import Infrastructure, close_infrastructure, open_infrastructure
from entrypoints.settings import Settings
from entrypoints.storage.backend import StartRefused
from entrypoints.storage.schema import (
    alembic_config,
    check_schema_at_start,
    code_migrations,
    migrate,
)
from entrypoints.storage.sql import SqlStorage
from tests.apps import TEST_SECRET
from tests.fakes.passwords import FakePasswordHasher
from tests.infra import sql_storage_over

pytestmark = pytest.mark.integration

HEAD = code_migrations().head
OLDEST = min(code_migrations().known)  # revisions are numbered: 0001, 0002...
NEWER = "9999_from_newer_code"


@pytest.fixture
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_database_url, pool_size=2)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    """Messages logged at WARNING and above while the test runs."""
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="WARNING")
    yield lines
    logger.remove(sink)


async def upgrade_to(engine: AsyncEngine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def stamp_newer_revision(engine: AsyncEngine) -> None:
    """As if newer code had migrated: a revision this code has never heard of."""
    await migrate(engine)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": NEWER})


def client_for(engine: AsyncEngine) -> httpx2.AsyncClient:
    settings = Settings(environment="test", secret_key=TEST_SECRET, database_url="memory://")
    storage = sql_storage_over(engine, code_migrations())
    infra = Infrastructure(hasher=FakePasswordHasher(), storage=storage)
    app = create_app(settings, container=build_container(settings, infra))
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://test")


# --- reading the revision ---------------------------------------------------------------


async def test_a_database_never_migrated_has_no_revision_and_is_behind(
    engine: AsyncEngine,
) -> None:
    revision = await schema_revision(engine, code_migrations())

    assert revision.database == ()
    assert revision.behind
    assert revision.describe() == (
        f"has no revision (never migrated), behind the code's head {HEAD}: run `conduit migrate`"
    )


async def test_a_migrated_database_is_at_head(engine: AsyncEngine) -> None:
    await migrate(engine)

    revision = await schema_revision(engine, code_migrations())

    assert revision.database == (HEAD,)
    assert revision.at_head
    assert not revision.behind


async def test_an_older_revision_is_behind_and_both_revisions_are_named(
    engine: AsyncEngine,
) -> None:
    await upgrade_to(engine, OLDEST)

    revision = await schema_revision(engine, code_migrations())

    assert revision.behind
    assert f"is at revision {OLDEST}, behind the code's head {HEAD}" in revision.describe()


async def test_a_revision_the_code_does_not_know_is_ahead(engine: AsyncEngine) -> None:
    await stamp_newer_revision(engine)

    revision = await schema_revision(engine, code_migrations())

    assert revision.ahead
    assert not revision.behind


async def test_migrate_leaves_a_schema_ahead_of_the_code_alone(engine: AsyncEngine) -> None:
    await stamp_newer_revision(engine)

    before = await migrate(engine)

    assert before.ahead
    assert (await schema_revision(engine, code_migrations())).database == (NEWER,)


async def test_migrate_reports_where_the_schema_stood(engine: AsyncEngine) -> None:
    first = await migrate(engine)
    second = await migrate(engine)

    assert (first.database, first.behind) == ((), True)
    assert second.at_head


# --- /health/ready ------------------------------------------------------------------------


async def test_ready_is_503_naming_the_schema_when_it_was_never_migrated(
    engine: AsyncEngine,
) -> None:
    async with client_for(engine) as http:
        response = await http.get("/health/ready")

    assert response.status_code == 503
    errors = response.json()["errors"]
    assert set(errors) == {"schema"}
    assert errors["schema"] == [
        f"has no revision (never migrated), behind the code's head {HEAD}: run `conduit migrate`"
    ]


async def test_ready_is_503_when_the_schema_is_behind(engine: AsyncEngine) -> None:
    await upgrade_to(engine, OLDEST)

    async with client_for(engine) as http:
        response = await http.get("/health/ready")

    assert response.status_code == 503
    assert f"is at revision {OLDEST}, behind" in response.json()["errors"]["schema"][0]


@pytest.mark.parametrize("state", ["at head", "ahead"])
async def test_ready_lists_the_schema_as_ok_at_head_or_ahead(
    engine: AsyncEngine, state: str
) -> None:
    await (migrate(engine) if state == "at head" else stamp_newer_revision(engine))

    async with client_for(engine) as http:
        response = await http.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "schema": "ok"}}


# --- start-up ------------------------------------------------------------------------------


def settings_for(url: str) -> Settings:
    # SQLite would migrate itself at start; without that, both databases are checked.
    return Settings(
        environment="test",
        secret_key=TEST_SECRET,
        database_url=url,
        sqlite_auto_migrate=False,
        password_hash_workers=1,
    )


async def test_start_is_refused_when_the_schema_is_behind(
    engine: AsyncEngine, empty_database_url: str
) -> None:
    await upgrade_to(engine, OLDEST)

    with pytest.raises(StartRefused) as raised:
        await open_infrastructure(settings_for(empty_database_url))

    assert str(raised.value) == (
        f"database schema is at revision {OLDEST}, behind the code's head {HEAD}: "
        "run `conduit migrate`"
    )


async def test_start_only_warns_when_the_schema_is_ahead(
    engine: AsyncEngine, empty_database_url: str, warnings: list[str]
) -> None:
    await stamp_newer_revision(engine)

    infra = await open_infrastructure(settings_for(empty_database_url))
    await close_infrastructure(infra)

    assert warnings == [
        f"database schema is at revision {NEWER}, newer than the code's head {HEAD} "
        "(migrated by newer code); serving anyway"
    ]
    assert isinstance(infra.storage, SqlStorage)
    assert infra.storage.migrations == code_migrations()


async def test_start_goes_on_with_one_warning_when_postgres_is_down(
    warnings: list[str],
) -> None:
    engine = make_engine("postgresql+asyncpg://app:pw@127.0.0.1:1/conduit")
    try:
        await check_schema_at_start(engine, code_migrations())
    finally:
        await engine.dispose()

    assert len(warnings) == 1
    assert warnings[0].startswith(
        "database: cannot connect to PostgreSQL at 127.0.0.1:1: connection refused"
    )
    assert warnings[0].endswith("starting anyway, /health/ready answers 503 meanwhile")
