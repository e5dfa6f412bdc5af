"""The `conduit` console script, run as a process."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from entrypoints.storage.schema import code_migrations
from tests.infra import ADMIN_URL, RUN_ID, _asyncpg_dsn, run_sync, unavailable

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


def test_create_admin_does_not_warn_about_secret_key(tmp_path: Path) -> None:
    # It issues no tokens: a missing SECRET_KEY is not worth a warning here.
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
        "CONDUIT_ADMIN_PASSWORD": "admin password",
    }
    result = run("create-admin", "--email", "root@example.com", "--username", "root", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == "conduit: root is an admin\n"


# --- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            (),
            [
                "serve",
                "migrate",
                "create-admin",
                "users",
                "DATABASE_URL",
                "SECRET_KEY",
                "REDIS_URL",
            ],
        ),
        (
            ("serve",),
            [
                "--host HOST",
                "(default: 127.0.0.1)",
                "(default: 8000)",
                "(default: 1)",
                "DATABASE_URL",
                "(default: sqlite+aiosqlite:///./conduit.db)",
                "REDIS_URL",
                "SECRET_KEY",
                "LOG_LEVEL",
                "(default: INFO)",
                "SQLITE_AUTO_MIGRATE",
            ],
        ),
        (("migrate",), ["DATABASE_URL", "postgres://", "sslmode"]),
        (("create-admin",), ["--email EMAIL", "DATABASE_URL", "CONDUIT_ADMIN_PASSWORD"]),
        (("users", "rename"), ["OLD", "NEW", "exactly", "DATABASE_URL"]),
    ],
)
def test_help_names_defaults_and_the_environment_each_command_reads(
    command: tuple[str, ...], expected: list[str]
) -> None:
    result = run(*command, "--help", env={})
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())  # argparse wraps lines
    for fragment in expected:
        assert fragment in text
    assert "(default: None)" not in text


def test_the_banner_paths_are_the_apps() -> None:
    from entrypoints.cli import API_ROOT, DOCS_PATH
    from entrypoints.http.app import API_PREFIX
    from entrypoints.http.docs import DOCS_URL

    assert (API_ROOT, DOCS_PATH) == (API_PREFIX, DOCS_URL)


# --- DATABASE_URL and database failures: one line, no traceback, no password -----------------

PASSWORD = "s3cret-pw"


def assert_one_line(result: subprocess.CompletedProcess[str], code: int, *fragments: str) -> str:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert PASSWORD not in result.stdout + result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"mysql://root:{PASSWORD}@127.0.0.1/conduit", 'unsupported scheme "mysql://"'),
        (f"postgresql+psycopg://app:{PASSWORD}@127.0.0.1/c", 'unsupported driver "psycopg"'),
        (f"postgress://app:{PASSWORD}@127.0.0.1/c", "did you mean postgres://?"),
        (f"postgres://app:{PASSWORD}@127.0.0.1/c?sslmode=on", 'SSL mode "on" is not one of'),
    ],
)
@pytest.mark.parametrize("command", ["migrate", "serve"])
def test_an_unusable_database_url_is_one_configuration_line(
    url: str, expected: str, command: str
) -> None:
    result = run(command, env={"DATABASE_URL": url})
    line = assert_one_line(result, 2, expected)
    assert line.startswith("conduit: configuration error: DATABASE_URL: ")


def test_migrate_against_a_dead_postgres_is_one_line() -> None:
    url = f"postgres://app:{PASSWORD}@127.0.0.1:1/conduit"
    result = run("migrate", env={"DATABASE_URL": url})
    assert_one_line(
        result,
        1,
        "conduit: cannot migrate: cannot connect to PostgreSQL at 127.0.0.1:1",
        "connection refused",
    )


def test_migrate_against_an_unknown_host_is_one_line() -> None:
    url = f"postgresql://app:{PASSWORD}@no-such-host.invalid:5432/conduit"
    result = run("migrate", env={"DATABASE_URL": url})
    assert_one_line(result, 1, 'host "no-such-host.invalid" not found')


def test_the_traceback_is_shown_at_log_level_debug() -> None:
    url = f"postgres://app:{PASSWORD}@127.0.0.1:1/conduit"
    result = run("migrate", env={"DATABASE_URL": url, "LOG_LEVEL": "DEBUG"})
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "ConnectionRefusedError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("conduit: cannot migrate: ")


def test_migrate_on_a_sqlite_file_it_cannot_open_is_one_line(tmp_path: Path) -> None:
    result = run("migrate", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'no' / 'c.db'}"})
    assert_one_line(result, 1, "cannot open the SQLite database")


@pytest.fixture
def database_name() -> Iterator[str]:
    """A name for this run's throwaway database; dropped afterwards if a test created it."""
    name = f"conduit_test_{RUN_ID}_cli_{uuid.uuid4().hex[:8]}"
    try:
        run_sync(lambda: _admin_execute("SELECT 1"))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        unavailable("PostgreSQL", exc)
    yield name
    run_sync(lambda: _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin_execute(statement: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(ADMIN_URL), timeout=5)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


def provider_url(database: str, query: str = "") -> str:
    """ADMIN_URL's server and user, as a hosting provider writes a URL: postgres://..."""
    url = make_url(ADMIN_URL).set(drivername="postgres", database=database)
    return url.render_as_string(hide_password=False) + query


@pytest.mark.postgres
def test_migrate_against_a_missing_database_says_how_to_create_it(database_name: str) -> None:
    result = run("migrate", env={"DATABASE_URL": provider_url(database_name)})
    assert_one_line(
        result,
        1,
        f'conduit: cannot migrate: database "{database_name}" does not exist',
        f"create it with: createdb -h 127.0.0.1 -p 5432 -U postgres {database_name}",
    )


@pytest.mark.postgres
def test_migrate_with_an_unknown_user_is_one_line(database_name: str) -> None:
    url = make_url(provider_url(database_name)).set(username="no_such_role", password=PASSWORD)
    result = run("migrate", env={"DATABASE_URL": url.render_as_string(hide_password=False)})
    assert_one_line(result, 1, "refused the login", 'role "no_such_role" does not exist')


@pytest.mark.postgres
def test_migrate_through_a_provider_url_with_sslmode(database_name: str) -> None:
    run_sync(lambda: _admin_execute(f'CREATE DATABASE "{database_name}"'))
    env = {"DATABASE_URL": provider_url(database_name, "?sslmode=disable")}

    first = run("migrate", env=env)
    again = run("migrate", env=env)

    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("conduit: database schema upgraded from none to ")
    assert again.stdout.startswith("conduit: database schema is already at the code's head")
    assert "alembic" not in first.stderr + again.stderr


@pytest.mark.postgres
def test_serve_refuses_a_schema_behind_the_code_in_one_line(database_name: str) -> None:
    run_sync(lambda: _admin_execute(f'CREATE DATABASE "{database_name}"'))
    env = {"DATABASE_URL": provider_url(database_name), "SECRET_KEY": "k" * 40}
    assert run("migrate", env=env).returncode == 0
    # The check reads only the recorded revision: say the last migration never ran.
    run_sync(lambda: _set_revision(database_name, "0001"))

    result = run("serve", "--port", "1", env=env)

    assert_one_line(
        result,
        1,
        "conduit: not starting: database schema is at revision 0001, behind the "
        f"code's head {code_migrations().head}: run `conduit migrate`",
    )


async def _set_revision(database: str, revision: str) -> None:
    dsn = make_url(_asyncpg_dsn(ADMIN_URL)).set(database=database)
    connection = await asyncpg.connect(dsn.render_as_string(hide_password=False), timeout=5)
    try:
        await connection.execute("UPDATE alembic_version SET version_num = $1", revision)
    finally:
        await connection.close()


# --- start-up: a banner, no library noise -----------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_serve_says_where_the_api_and_docs_are_and_nothing_from_alembic(
    tmp_path: Path, storage: str
) -> None:
    from tests.e2e.test_live_server import free_port

    url = "memory://" if storage == "memory" else f"sqlite:///{tmp_path / 'c.db'}"
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ENVIRONMENT"}}
    env = {**clean, "DATABASE_URL": url, "SECRET_KEY": "k" * 40}
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [CONDUIT, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        banner = f"API at http://127.0.0.1:{port}/api, docs at http://127.0.0.1:{port}/docs"
        deadline = time.monotonic() + 30
        while banner not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        text = log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)

    assert banner in text, text
    assert [line for line in text.splitlines() if "alembic" in line] == []
