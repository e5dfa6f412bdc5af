"""Migration 0003 (username keys) on SQLite and Postgres: it fills the keys, and where
existing names would clash it changes nothing and names the `conduit users rename` commands
that let it through."""

from __future__ import annotations

import importlib.util
import re
import shlex
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import make_engine
from adapters.sql.renames import rename_user
from core.users.errors import UsernameLookalike, UsernameTaken
from core.users.model import username_key, username_skeleton
from entrypoints.storage.schema import MIGRATIONS_DIR, alembic_config, migrate
from migrations.blocked import MigrationBlocked

CYRILLIC_ADMIN = "\u0430dmin"  # a Cyrillic "a": allowed before 0003
CYRILLIC_ACE = "\u0430\u0441\u0435"  # all Cyrillic: one script, looks like "ace"
START = datetime(2026, 1, 1, tzinfo=UTC)

# The 0002 schema's users, as an operator's database holds them.
_users_0002 = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("username", sa.String(40)),
    sa.column("email", sa.String(254)),
    sa.column("password_hash", sa.String(255)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def _revision_0003() -> ModuleType:
    path = next((MIGRATIONS_DIR / "versions").glob("*_0003_*.py"))
    spec = importlib.util.spec_from_file_location("revision_0003", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_database_url)
    await _alembic(engine, "upgrade", "0002")
    try:
        yield engine
    finally:
        await engine.dispose()


async def _alembic(engine: AsyncEngine, action: str, target: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        getattr(command, action)(config, target)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def _add_users(engine: AsyncEngine, *names: str) -> dict[str, uuid.UUID]:
    """Accounts with these names, created a minute apart in this order."""
    ids = {name: uuid.uuid4() for name in names}
    async with engine.begin() as connection:
        for n, name in enumerate(names):
            when = START + timedelta(minutes=n)
            await connection.execute(
                _users_0002.insert().values(
                    id=ids[name],
                    username=name,
                    email=f"user{n}@example.com",
                    password_hash="hash",
                    created_at=when,
                    updated_at=when,
                )
            )
    return ids


async def _rows(engine: AsyncEngine) -> dict[str, tuple[Any, ...]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.text("SELECT username, email, username_key, username_skeleton FROM users")
        )
        return {row[0]: tuple(row[1:]) for row in rows}


async def _columns(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda c: {column["name"] for column in sa.inspect(c).get_columns("users")}
        )


async def _revision(engine: AsyncEngine) -> str:
    async with engine.connect() as connection:
        return str(
            (
                await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            ).scalar_one()
        )


async def test_upgrade_fills_the_keys_of_names_that_do_not_clash(engine: AsyncEngine) -> None:
    await _add_users(engine, "Jake", "jane", "\u0418\u0432\u0430\u043d", "ace")

    await migrate(engine)

    rows = await _rows(engine)
    assert set(rows) == {"Jake", "jane", "\u0418\u0432\u0430\u043d", "ace"}
    for name, (_email, key, skeleton) in rows.items():
        assert (key, skeleton) == (username_key(name), username_skeleton(name))


async def test_the_keys_are_unique_after_the_upgrade(engine: AsyncEngine) -> None:
    await _add_users(engine, "jake")
    await migrate(engine)

    with pytest.raises(sa.exc.IntegrityError, match="username_key"):
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO users (id, username, username_key, username_skeleton, email,"
                    " password_hash, bio, created_at, updated_at, role, active, token_version)"
                    " VALUES (:id, 'JAKE', 'jake', 'other', 'x@example.com', 'h', '',"
                    " :now, :now, 'user', :active, 0)"
                ),
                {"id": uuid.uuid4().hex, "now": START, "active": True},
            )


async def test_upgrade_stops_on_clashing_names_and_changes_nothing(engine: AsyncEngine) -> None:
    ids = await _add_users(engine, "admin", "Admin", CYRILLIC_ADMIN, "ace", CYRILLIC_ACE, "bob")

    with pytest.raises(MigrationBlocked) as blocked:
        await migrate(engine)

    message = str(blocked.value)
    assert await _revision(engine) == "0002"
    assert "username_key" not in await _columns(engine)
    # Each group: its oldest account keeps its name; each newer one gets a command.
    assert f"'admin' (id {ids['admin']}, the oldest) keeps its name" in message
    assert f"'ace' (id {ids['ace']}, the oldest) keeps its name" in message
    commands = re.findall(r"conduit users rename .*", message)
    assert commands == [  # quoted for a shell (non-ASCII names too)
        "conduit users rename Admin admin-2",
        f"conduit users rename '{CYRILLIC_ADMIN}' admin-3",
        f"conduit users rename '{CYRILLIC_ACE}' ace-2",
    ]
    assert "bob" not in message


async def test_the_listed_renames_let_the_upgrade_through_and_keep_the_accounts(
    engine: AsyncEngine,
) -> None:
    await _add_users(engine, "admin", "Admin", CYRILLIC_ADMIN, "ace", CYRILLIC_ACE)
    with pytest.raises(MigrationBlocked) as blocked:
        await migrate(engine)
    before = await _users_by_id(engine)

    for line in re.findall(r"conduit users rename .*", str(blocked.value)):
        old, new = shlex.split(line)[3:]
        assert await rename_user(engine, old, new) == new
    await migrate(engine)

    assert await _revision(engine) != "0002"
    after = await _users_by_id(engine)
    assert {user_id: email for user_id, (_, email) in after.items()} == {
        user_id: email for user_id, (_, email) in before.items()
    }
    names = sorted(name for name, _ in after.values())
    assert names == sorted(["admin", "admin-2", "admin-3", "ace", "ace-2"])
    for name, (_email, key, skeleton) in (await _rows(engine)).items():
        assert (key, skeleton) == (username_key(name), username_skeleton(name))


async def _users_by_id(engine: AsyncEngine) -> dict[uuid.UUID, tuple[str, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.select(_users_0002.c.id, _users_0002.c.username, _users_0002.c.email)
        )
        return {row.id: (row.username, row.email) for row in rows}


async def test_rename_refuses_a_name_taken_or_alike_before_the_upgrade(
    engine: AsyncEngine,
) -> None:
    await _add_users(engine, "admin", "Admin", "jake", "paypal")

    with pytest.raises(UsernameTaken):
        await rename_user(engine, "Admin", "JAKE")
    with pytest.raises(UsernameLookalike):
        await rename_user(engine, "Admin", "paypaI")  # a capital I for the l


async def test_rename_after_the_upgrade_writes_the_keys(engine: AsyncEngine) -> None:
    await _add_users(engine, "jake", "jane")
    await migrate(engine)

    assert await rename_user(engine, "jake", "Jacob") == "Jacob"
    with pytest.raises(UsernameTaken):
        await rename_user(engine, "jane", "JACOB")

    rows = await _rows(engine)
    assert rows["Jacob"][1:] == (username_key("Jacob"), username_skeleton("Jacob"))


@given(st.from_regex(r"[\w.\-]{1,40}", fullmatch=True))
def test_the_revisions_own_key_functions_are_the_cores(name: str) -> None:
    revision = _revision_0003()
    assert revision.username_key(name) == username_key(name)
    assert revision.username_skeleton(name) == username_skeleton(name)
