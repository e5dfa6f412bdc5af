"""`conduit users rename`, run as a process: what the username migration (0003) asks an
operator to run when existing names clash, before and after `conduit migrate`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from sqlalchemy.engine import Connection

from adapters.sql.engine import make_engine
from entrypoints.storage.schema import alembic_config
from tests.e2e.test_cli import run
from tests.infra import run_sync


async def _at_0002(url: str) -> None:
    engine = make_engine(url)
    config = alembic_config(url)

    def upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")

    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade)
    finally:
        await engine.dispose()


def _database_at_0002_with(path: Path, *names: str) -> dict[str, str]:
    url = f"sqlite+aiosqlite:///{path}"
    run_sync(lambda: _at_0002(url))
    with sqlite3.connect(path) as db:
        for n, name in enumerate(names):
            db.execute(
                "INSERT INTO users (id, username, email, password_hash, bio, created_at,"
                " updated_at) VALUES (?, ?, ?, 'hash', '', ?, ?)",
                (
                    f"{n:032x}",
                    name,
                    f"user{n}@example.com",
                    f"2026-01-0{n + 1}",
                    f"2026-01-0{n + 1}",
                ),
            )
    return {"DATABASE_URL": url}


def _usernames(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT email, username FROM users").fetchall())


def test_migrate_lists_clashing_names_and_the_rename_lets_it_through(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    env = _database_at_0002_with(db, "admin", "Admin", "jane")

    blocked = run("migrate", env=env)
    renamed = run("users", "rename", "Admin", "admin-2", env=env)
    migrated = run("migrate", env=env)

    assert blocked.returncode == 1
    assert "'Admin' (id " in blocked.stderr
    assert "conduit users rename Admin admin-2" in blocked.stderr
    assert "Nothing was changed." in blocked.stderr
    assert renamed.returncode == 0, renamed.stderr
    assert renamed.stdout.strip() == "conduit: 'Admin' is now 'admin-2'"
    assert migrated.returncode == 0, migrated.stderr
    assert _usernames(db) == {
        "user0@example.com": "admin",
        "user1@example.com": "admin-2",  # the same account, under its new name
        "user2@example.com": "jane",
    }


def test_rename_refuses_a_taken_name_and_an_unknown_account(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    env = _database_at_0002_with(db, "jake", "jane")
    assert run("migrate", env=env).returncode == 0

    taken = run("users", "rename", "jane", "JAKE", env=env)
    mixed = run("users", "rename", "jane", "j\u0430ne", env=env)
    unknown = run("users", "rename", "nobody", "somebody", env=env)

    assert (taken.returncode, taken.stderr.strip()) == (
        1,
        "conduit: username: has already been taken",
    )
    assert mixed.returncode == 1
    assert "must not mix letters of different scripts" in mixed.stderr
    assert (unknown.returncode, unknown.stderr.strip()) == (
        1,
        "conduit: no user is named exactly 'nobody'",
    )
    assert _usernames(db) == {"user0@example.com": "jake", "user1@example.com": "jane"}


def test_rename_on_memory_storage_refuses(tmp_path: Path) -> None:
    result = run("users", "rename", "a", "b", env={"DATABASE_URL": "memory://"})
    assert result.returncode == 2
    assert "keeps nothing" in result.stderr
