"""Prints the SQL statements Conduit runs per benchmarked endpoint (to refresh bench/floor.py).

It builds the app in this process on a fresh database (a throwaway Postgres database, or with
--sqlite a temporary file), migrated with `conduit migrate`, seeds a tiny data set through the
API, then sends each benchmarked request once, in order, and prints the statements that reached
the database driver during it (a `before_cursor_execute` listener on every SQLAlchemy engine).
The database is dropped at the end. Statements Conduit runs around the data ones are marked, not
hidden: the caller lookup (`users` by id), pings, BEGIN/COMMIT; the floor leaves them out.

    .venv/bin/python bench/capture_sql.py             # Postgres (asyncpg dialect, $n params)
    .venv/bin/python bench/capture_sql.py --sqlite    # SQLite (? params)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
CONDUIT = ROOT / ".venv" / "bin" / "conduit"
DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"

statements: list[str] = []


def _record(
    _conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, executemany: bool
) -> None:
    rows = f"\n-- (executemany: {len(params)} parameter sets)" if executemany else ""
    statements.append(statement.strip() + rows)


def note(statement: str) -> str:
    """Why the floor leaves a statement out, or "" for a data statement it runs."""
    flat = " ".join(statement.split()).lower()
    if flat in ("begin", "begin immediate", "commit", "rollback", "select 1", ";", ""):
        return "transaction or ping: not in the floor"
    if re.fullmatch(r"select .* from users where users\.id = (\$1::uuid|\?)", flat):
        return "caller lookup: not in the floor"
    return ""


@contextmanager
def database(sqlite: bool, admin_dsn: str) -> Iterator[str]:
    """A fresh empty database URL for Conduit, removed on exit."""
    if sqlite:
        with tempfile.TemporaryDirectory(prefix="conduit-capture-") as tmp:
            yield f"sqlite+aiosqlite:///{tmp}/conduit.db"
        return
    name = f"conduit_capture_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(_pg_admin(admin_dsn, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin_dsn).set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_admin(admin_dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def conduit_client() -> AsyncIterator[httpx2.AsyncClient]:
    from loguru import logger

    from entrypoints.http.app import create_app  # after the environment is set

    logger.remove()  # the access lines would interleave with the statements
    app = create_app()
    async with (
        app.router.lifespan_context(app),
        httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://capture"
        ) as client,
    ):
        yield client


async def capture() -> list[tuple[str, list[str]]]:
    """(request label, statements) per benchmarked request, after a tiny seed."""
    async with conduit_client() as c:

        async def register(name: str) -> str:
            user = {
                "username": name,
                "email": f"{name}@example.com",
                "password": f"password-{name}",
            }
            r = await c.post("/api/users", json={"user": user})
            r.raise_for_status()
            token: str = r.json()["user"]["token"]
            return token

        alice, bob = await register("alice"), await register("bob")
        auth = {"Authorization": f"Token {bob}"}
        (await c.post("/api/profiles/alice/follow", headers=auth)).raise_for_status()
        article = {"title": "Hello", "description": "d", "body": "b", "tagList": ["go", "rust"]}
        r = await c.post(
            "/api/articles",
            json={"article": article},
            headers={"Authorization": f"Token {alice}"},
        )
        r.raise_for_status()
        slug = r.json()["article"]["slug"]
        comment = {"comment": {"body": "nice"}}
        (
            await c.post(f"/api/articles/{slug}/comments", json=comment, headers=auth)
        ).raise_for_status()
        (await c.post(f"/api/articles/{slug}/favorite", headers=auth)).raise_for_status()

        article_url = f"/api/articles/{slug}"
        new = {"title": "Another one", "description": "d", "body": "b", "tagList": ["go", "zig"]}
        requests: list[tuple[str, str, str, dict[str, str], dict[str, Any] | None]] = [
            ("GET /api/tags", "GET", "/api/tags", {}, None),
            ("GET /api/articles (anonymous)", "GET", "/api/articles", {}, None),
            ("GET /api/articles", "GET", "/api/articles", auth, None),
            ("GET /api/articles/feed", "GET", "/api/articles/feed", auth, None),
            ("GET /api/articles/{slug} (anonymous)", "GET", f"/api/articles/{slug}", {}, None),
            ("GET /api/articles/{slug}", "GET", f"/api/articles/{slug}", auth, None),
            ("GET /api/articles/{slug}/comments", "GET", f"{article_url}/comments", auth, None),
            ("GET /api/profiles/{username} (anonymous)", "GET", "/api/profiles/alice", {}, None),
            ("GET /api/profiles/{username}", "GET", "/api/profiles/alice", auth, None),
            ("POST /api/articles", "POST", "/api/articles", auth, {"article": new}),
        ]  # fmt: skip
        captured = []
        for label, method, url, headers, body in requests:
            statements.clear()
            r = await c.request(method, url, headers=headers, json=body)
            r.raise_for_status()
            captured.append((label, list(statements)))
    return captured


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sqlite", action="store_true", help="a temporary SQLite file")
    p.add_argument("--admin-dsn", default=DEFAULT_ADMIN_DSN, help="Postgres admin DSN")
    args = p.parse_args()
    with database(args.sqlite, args.admin_dsn) as url:
        os.environ.update(
            DATABASE_URL=url,
            SECRET_KEY=secrets.token_urlsafe(48),
            LOG_LEVEL="WARNING",
            RATE_LIMIT_ENABLED="false",
            CACHE_ENABLED="false",
        )
        for name in [k for k in os.environ if k.startswith(("REDIS_", "ENVIRONMENT"))]:
            del os.environ[name]
        subprocess.run([str(CONDUIT), "migrate"], check=True, capture_output=True, timeout=120)
        event.listen(Engine, "before_cursor_execute", _record)
        captured = asyncio.run(capture())
    for label, sql in captured:
        print(f"== {label}: {len(sql)} statements")
        for i, statement in enumerate(sql, 1):
            why = note(statement)
            print(f"-- {i}{f' ({why})' if why else ''}")
            print(statement.strip())
        print()


if __name__ == "__main__":
    main()
