"""The `conduit` console script, run as a process."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

CONDUIT = shutil.which("conduit", path=str(Path(sys.executable).parent)) or "conduit"


def run(*args: str, env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ENVIRONMENT"}}
    return subprocess.run(
        [CONDUIT, *args], env={**clean, **env}, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("secret", [None, "too-short"])
def test_production_refuses_to_start_without_a_long_secret(secret: str | None) -> None:
    env = {"ENVIRONMENT": "production", "DATABASE_URL": "memory://"}
    if secret is not None:
        env["SECRET_KEY"] = secret
    result = run("serve", "--port", "1", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SECRET_KEY must be set to at least 32 bytes" in lines[0]


def test_migrate_creates_the_schema_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    result = run("migrate", env={"DATABASE_URL": f"sqlite+aiosqlite:///{db}"})
    assert result.returncode == 0, result.stderr
    tables = {row[0] for row in sqlite3.connect(db).execute("select name from sqlite_master")}
    assert {"users", "articles", "comments", "favorites", "follows", "article_tags"} <= tables


def test_help_lists_the_commands() -> None:
    result = run("--help", env={})
    assert result.returncode == 0
    assert "serve" in result.stdout
    assert "migrate" in result.stdout


def test_create_admin_makes_an_admin_who_can_use_the_admin_api(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'a.db'}",
        "SECRET_KEY": "k" * 40,
        "CONDUIT_ADMIN_PASSWORD": "admin password",
    }
    result = run("create-admin", "--email", "root@example.com", "--username", "root", env=env)
    assert result.returncode == 0, result.stderr
    row = (
        sqlite3.connect(tmp_path / "a.db")
        .execute("select role, password_hash from users where username = 'root'")
        .fetchone()
    )
    assert row[0] == "admin"
    assert row[1].startswith("$argon2id$")
    assert "admin password" not in result.stdout + result.stderr


def test_create_admin_without_a_password_source_refuses(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"}
    result = run("create-admin", "--email", "a@example.com", "--username", "a", env=env)
    assert result.returncode == 2
    assert "CONDUIT_ADMIN_PASSWORD" in result.stderr
