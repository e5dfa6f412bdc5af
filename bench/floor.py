"""The benchmark's floor: Conduit's data statements per endpoint, in minimal FastAPI handlers.

Each handler runs the SQL statements Conduit runs for its endpoint (captured with
bench/capture_sql.py, copied here as text) on a plain asyncpg pool, or on a few aiosqlite
connections for SQLite, and serialises every returned row to the RealWorld JSON shape with
`json.dumps`. What Conduit does around them is left out: no token check and no caller lookup
(the viewer's user id comes in the `X-User-Id` header), no BEGIN/COMMIT around reads, no pings,
no middleware. `GET /cached/{name}` answers the bytes stored in Redis under FLOOR_REDIS_PREFIX +
name, as is: the floor of a cached read.

Started by bench/run.py:

    FLOOR_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/db   (or sqlite:////path/file.db)
    FLOOR_REDIS_URL=redis://127.0.0.1:6379/0 FLOOR_REDIS_PREFIX=conduit-bench:<uuid>:floor:
    .venv/bin/python -m uvicorn --app-dir bench floor:app --workers N --no-access-log ...

When Conduit's SQL changes, rerun bench/capture_sql.py (and with --sqlite) and update the
statements below; the floor is the data statements, so caller lookups and BEGIN/COMMIT stay out.
Captured at commit e47fd08, creation again at 65ff59b (on Postgres the article and its tags
are one statement; a taken slug is found by ON CONFLICT DO NOTHING, no lookup first): an
article's tags ride in its row (array_agg on Postgres,
json_group_array on SQLite), a list page carries its total as count(*) OVER (), so a list,
a feed page and an article are one statement each.

The Postgres pool is Conduit's: DB_POOL_SIZE connections (default 10, the same variable
Conduit reads), all opened at start, no overflow.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

import aiosqlite
import asyncpg
from fastapi import FastAPI, Request, Response
from redis.asyncio import Redis

PAGE = 20  # Conduit's default page: limit 20, offset 0
DEFAULT_POOL_SIZE = 10  # Conduit's DB_POOL_SIZE default; its engine has no overflow
SQLITE_CONNECTIONS = 4

# ----------------------------------------------------------------------- SQL, Postgres
# The statements Conduit sent (bench/capture_sql.py), as text. {favorited} and {following}
# differ between an anonymous and a signed-in reader; {total} is the window count of a page;
# a page reads no body ({body}: '' AS body), a single article reads it.

_ARTICLE_COLUMNS = """SELECT articles.id, articles.slug, articles.title, articles.description,
 {body}, articles.created_at, articles.updated_at, (SELECT count(*) AS count_1
FROM favorites
WHERE favorites.article_id = articles.id) AS favorites_count, {favorited} AS favorited,
 (SELECT array_agg(article_tags.tag) AS array_agg_1
FROM article_tags
WHERE article_tags.article_id = articles.id) AS tag_list,
 users.username AS author_username, users.bio AS author_bio, users.image AS author_image,
 {following} AS author_following{total}
FROM articles JOIN users ON users.id = articles.author_id"""
_TOTAL = ", count(*) OVER () AS total_matches"
_BODY, _NO_BODY = "articles.body", "'' AS body"

PG: dict[str, str] = {}
PG["favorited"] = """EXISTS (SELECT *
FROM favorites
WHERE favorites.article_id = articles.id AND favorites.user_id = $1::UUID)"""
PG["following"] = """EXISTS (SELECT *
FROM follows
WHERE follows.follower_id = $2::UUID AND follows.followee_id = articles.author_id)"""
PG["list_anonymous"] = (
    _ARTICLE_COLUMNS.format(favorited="false", following="false", total=_TOTAL, body=_NO_BODY)
    + """ ORDER BY articles.created_at DESC, articles.id DESC
 LIMIT $1::INTEGER OFFSET $2::INTEGER"""
)
PG["list"] = (
    _ARTICLE_COLUMNS.format(
        favorited=PG["favorited"], following=PG["following"], total=_TOTAL, body=_NO_BODY
    )
    + """ ORDER BY articles.created_at DESC, articles.id DESC
 LIMIT $3::INTEGER OFFSET $4::INTEGER"""
)
PG["feed"] = (
    _ARTICLE_COLUMNS.format(
        favorited=PG["favorited"], following=PG["following"], total=_TOTAL, body=_NO_BODY
    )
    + """
WHERE articles.author_id IN (SELECT follows.followee_id
FROM follows
WHERE follows.follower_id = $3::UUID) ORDER BY articles.created_at DESC, articles.id DESC
 LIMIT $4::INTEGER OFFSET $5::INTEGER"""
)
PG["article_anonymous"] = (
    _ARTICLE_COLUMNS.format(favorited="false", following="false", total="", body=_BODY)
    + """
WHERE articles.slug = $1::VARCHAR"""
)
PG["article"] = (
    _ARTICLE_COLUMNS.format(
        favorited=PG["favorited"], following=PG["following"], total="", body=_BODY
    )
    + """
WHERE articles.slug = $3::VARCHAR"""
)
PG["article_id"] = """SELECT articles.id
FROM articles
WHERE articles.slug = $1::VARCHAR"""
PG["comments"] = """SELECT comments.id, comments.body, comments.created_at, comments.updated_at,
 users.username AS author_username, users.bio AS author_bio, users.image AS author_image,
 EXISTS (SELECT *
FROM follows
WHERE follows.follower_id = $1::UUID AND follows.followee_id = comments.author_id)
 AS author_following
FROM comments JOIN users ON users.id = comments.author_id
WHERE comments.article_id = $2::UUID ORDER BY comments.created_at DESC, comments.id DESC"""
PG["profile"] = """SELECT users.username AS username, users.bio AS bio, users.image AS image,
 EXISTS (SELECT *
FROM follows
WHERE follows.follower_id = $1::UUID AND follows.followee_id = users.id) AS following
FROM users
WHERE users.username = $2::VARCHAR"""
PG["tags"] = """SELECT DISTINCT article_tags.tag
FROM article_tags ORDER BY article_tags.tag"""
PG["slug_exists"] = """SELECT EXISTS (SELECT *
FROM articles
WHERE articles.slug = $1::VARCHAR) AS anon_1"""
PG["insert_article"] = """INSERT INTO articles (id, author_id, slug, title, description, body,
 created_at, updated_at) VALUES ($1::UUID, $2::UUID, $3::VARCHAR, $4::VARCHAR, $5::VARCHAR,
 $6::VARCHAR, $7::TIMESTAMP WITH TIME ZONE, $8::TIMESTAMP WITH TIME ZONE)"""
PG["insert_tag"] = """INSERT INTO article_tags (article_id, tag) VALUES ($1::UUID, $2::VARCHAR)"""
# Postgres: the article and its tags in one statement, as Conduit sends it since 65ff59b
# (a taken slug inserts nothing and counts 0: the id-suffixed slug goes next, in the same
# transaction). SQLite keeps the statements above (no data-modifying CTEs there).
PG_INSERT_ARTICLE_WITH_TAGS = """WITH article AS
(INSERT INTO articles (id, author_id, slug, title, description, body, created_at, updated_at)
 VALUES ($2::UUID, $3::UUID, $4::VARCHAR, $5::VARCHAR, $6::VARCHAR, $7::VARCHAR,
 $8::TIMESTAMP WITH TIME ZONE, $9::TIMESTAMP WITH TIME ZONE) ON CONFLICT (slug) DO NOTHING
 RETURNING articles.id),
tags AS
(INSERT INTO article_tags (article_id, tag) SELECT article.id AS id, unnest($1::VARCHAR[]) AS
 unnest_1
FROM article)
 SELECT count(*) AS inserted
FROM article"""


def _sqlite_dialect(statement: str) -> str:
    """The SQLite text SQLAlchemy sends for the same statement: `?` parameters, no casts, 0
    for a false literal, the tags as a JSON array."""
    statement = re.sub(r"\$\d+(::(TIMESTAMP WITH TIME ZONE|[A-Z]+))?", "?", statement)
    statement = statement.replace(
        "array_agg(article_tags.tag) AS array_agg_1",
        "json_group_array(article_tags.tag) AS json_group_array_1",
    )
    return statement.replace("false AS", "0 AS")


SQLITE = {name: _sqlite_dialect(statement) for name, statement in PG.items()}

# ----------------------------------------------------------------------- database access

Row = Sequence[Any]


class Database(Protocol):
    sql: dict[str, str]

    def user_id(self, value: str) -> Any: ...
    async def fetch(self, *statements: tuple[str, Sequence[Any]]) -> list[list[Row]]: ...
    async def create_article(
        self, author: Any, values: Sequence[Any], tags: Sequence[str], viewer: tuple[Any, ...]
    ) -> Row | None: ...
    async def close(self) -> None: ...


class PostgresDatabase:
    sql = PG

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    def user_id(self, value: str) -> Any:
        return uuid.UUID(value)

    async def fetch(self, *statements: tuple[str, Sequence[Any]]) -> list[list[Row]]:
        async with self._pool.acquire() as conn:
            return [list(await conn.fetch(sql, *args)) for sql, args in statements]

    async def create_article(
        self, author: Any, values: Sequence[Any], tags: Sequence[str], viewer: tuple[Any, ...]
    ) -> Row | None:
        article_id, slug = values[0], values[2]
        insert = PG_INSERT_ARTICLE_WITH_TAGS
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                if not await conn.fetchval(insert, tags, article_id, author, slug, *values[3:]):
                    slug = f"{slug}-{article_id.hex[-8:]}"
                    await conn.fetchval(insert, tags, article_id, author, slug, *values[3:])
            row: Row | None = await conn.fetchrow(PG["article"], *viewer, slug)
        return row

    async def close(self) -> None:
        await self._pool.close()


class SqliteDatabase:
    """A few aiosqlite connections (WAL), handed out from a queue; writes BEGIN IMMEDIATE as
    Conduit's write transactions do."""

    sql = SQLITE

    def __init__(self, connections: list[aiosqlite.Connection]) -> None:
        self._free: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for conn in connections:
            self._free.put_nowait(conn)
        self._all = connections

    @classmethod
    async def open(cls, path: str) -> SqliteDatabase:
        connections = []
        for _ in range(SQLITE_CONNECTIONS):
            conn = await aiosqlite.connect(path, timeout=30, isolation_level=None)
            for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
                await conn.execute(f"PRAGMA {pragma}")
            await conn.execute("PRAGMA busy_timeout=30000")
            connections.append(conn)
        return cls(connections)

    def user_id(self, value: str) -> Any:
        return uuid.UUID(value).hex  # SQLAlchemy's Uuid on SQLite: 32 hex digits

    @asynccontextmanager
    async def _conn(self) -> AsyncIterator[aiosqlite.Connection]:
        conn = await self._free.get()
        try:
            yield conn
        finally:
            self._free.put_nowait(conn)

    async def fetch(self, *statements: tuple[str, Sequence[Any]]) -> list[list[Row]]:
        async with self._conn() as conn:
            return [list(await conn.execute_fetchall(sql, args)) for sql, args in statements]

    async def create_article(
        self, author: Any, values: Sequence[Any], tags: Sequence[str], viewer: tuple[Any, ...]
    ) -> Row | None:
        article_id, slug = values[0].hex, values[2]
        stamps = [v.replace(tzinfo=None).isoformat(" ") for v in values[6:8]]
        async with self._conn() as conn:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                # As Conduit: the plain slug, ON CONFLICT DO NOTHING; the suffixed one if taken.
                insert = SQLITE["insert_article"] + " ON CONFLICT (slug) DO NOTHING"
                cursor = await conn.execute(
                    insert, (article_id, author, slug, *values[3:6], *stamps)
                )
                if cursor.rowcount == 0:
                    slug = f"{slug}-{article_id[-8:]}"
                    await conn.execute(insert, (article_id, author, slug, *values[3:6], *stamps))
                if tags:
                    await conn.executemany(SQLITE["insert_tag"], [(article_id, t) for t in tags])
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            rows = list(await conn.execute_fetchall(SQLITE["article"], (*viewer, slug)))
        return rows[0] if rows else None

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()


async def open_database(url: str) -> Database:
    if url.startswith("sqlite:///"):
        return await SqliteDatabase.open(url.removeprefix("sqlite:///"))
    size = int(os.environ.get("DB_POOL_SIZE", DEFAULT_POOL_SIZE))
    pool = await asyncpg.create_pool(url, min_size=size, max_size=size)
    return PostgresDatabase(pool)


# ----------------------------------------------------------------------- JSON


def _time(value: Any) -> str:
    """Conduit's format, 2026-11-22T04:15:05.123Z; SQLite gives 2026-11-22 04:15:05.123456."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds")[:23] + "Z"
    return f"{value[:10]}T{value[11:23]}Z"


def _profile(username: str, bio: str, image: str | None, following: Any) -> dict[str, Any]:
    return {"username": username, "bio": bio, "image": image, "following": bool(following)}


def _tags(value: Any) -> list[str]:
    """The tag_list column: a text[] (None without tags) on Postgres, a JSON array on SQLite;
    sorted as Conduit sorts it."""
    if isinstance(value, str):
        value = json.loads(value)
    return sorted(value or ())


def _article(row: Row, with_body: bool = True) -> dict[str, Any]:
    """A list item leaves the body out, as Conduit's does (its page query still reads it)."""
    (_, slug, title, description, body, created, updated, count, favorited, tags, *author) = row
    article = {
        "slug": slug,
        "title": title,
        "description": description,
        "body": body,
        "tagList": _tags(tags),
        "createdAt": _time(created),
        "updatedAt": _time(updated),
        "favorited": bool(favorited),
        "favoritesCount": count,
        "author": _profile(*author[:4]),
    }
    if not with_body:
        del article["body"]
    return article


def _json(document: Any, status: int = 200) -> Response:
    return Response(json.dumps(document).encode(), status, media_type="application/json")


def _not_found() -> Response:
    return _json({"errors": {"body": ["not found"]}}, 404)


def _new_id() -> uuid.UUID:
    """A UUIDv7 (time-ordered), as Conduit's ids are."""
    ms, rand = time.time_ns() // 1_000_000, secrets.randbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & (2**62 - 1))
    return uuid.UUID(int=value)


def _slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:100]


# ----------------------------------------------------------------------- app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.db = await open_database(os.environ["FLOOR_DATABASE_URL"])
    redis_url = os.environ.get("FLOOR_REDIS_URL")
    app.state.redis = Redis.from_url(redis_url) if redis_url else None
    app.state.prefix = os.environ.get("FLOOR_REDIS_PREFIX", "conduit-bench:floor:")
    try:
        yield
    finally:
        await app.state.db.close()
        if app.state.redis is not None:
            await app.state.redis.aclose()


app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _viewer(request: Request, db: Database) -> Any:
    return db.user_id(request.headers["x-user-id"])


async def _page(db: Database, sql: str, args: Sequence[Any]) -> Response:
    """One statement: the page's rows, each with its tags and the total (its last column). The
    floor reads the first page, so no rows means no matches (Conduit counts again only past
    the end)."""
    (rows,) = await db.fetch((sql, args))
    articles = [_article(row, with_body=False) for row in rows]
    return _json({"articles": articles, "articlesCount": rows[0][-1] if rows else 0})


@app.get("/articles/anonymous")
async def list_anonymous(request: Request) -> Response:
    db = _db(request)
    return await _page(db, db.sql["list_anonymous"], (PAGE, 0))


@app.get("/articles")
async def list_articles(request: Request) -> Response:
    db = _db(request)
    viewer = _viewer(request, db)
    return await _page(db, db.sql["list"], (viewer, viewer, PAGE, 0))


@app.get("/articles/feed")
async def feed(request: Request) -> Response:
    db = _db(request)
    viewer = _viewer(request, db)
    return await _page(db, db.sql["feed"], (viewer, viewer, viewer, PAGE, 0))


async def _one_article(db: Database, sql: str, args: Sequence[Any]) -> Response:
    (rows,) = await db.fetch((sql, args))
    if not rows:
        return _not_found()
    return _json({"article": _article(rows[0])})


@app.get("/articles/anonymous/{slug}")
async def article_anonymous(request: Request, slug: str) -> Response:
    db = _db(request)
    return await _one_article(db, db.sql["article_anonymous"], (slug,))


@app.get("/articles/{slug}")
async def article(request: Request, slug: str) -> Response:
    db = _db(request)
    viewer = _viewer(request, db)
    return await _one_article(db, db.sql["article"], (viewer, viewer, slug))


@app.get("/articles/{slug}/comments")
async def comments(request: Request, slug: str) -> Response:
    db = _db(request)
    viewer = _viewer(request, db)
    (found,) = await db.fetch((db.sql["article_id"], (slug,)))
    if not found:
        return _not_found()
    (rows,) = await db.fetch((db.sql["comments"], (viewer, found[0][0])))
    return _json(
        {
            "comments": [
                {
                    "id": comment_id,
                    "body": body,
                    "createdAt": _time(created),
                    "updatedAt": _time(updated),
                    "author": _profile(*author),
                }
                for comment_id, body, created, updated, *author in rows
            ]
        }
    )


@app.get("/profiles/{username}")
async def profile(request: Request, username: str) -> Response:
    db = _db(request)
    (rows,) = await db.fetch((db.sql["profile"], (_viewer(request, db), username)))
    if not rows:
        return _not_found()
    return _json({"profile": _profile(*rows[0])})


@app.get("/tags")
async def tags(request: Request) -> Response:
    (rows,) = await _db(request).fetch((_db(request).sql["tags"], ()))
    return _json({"tags": [tag for (tag,) in rows]})


@app.post("/articles")
async def create_article(request: Request) -> Response:
    db = _db(request)
    viewer = _viewer(request, db)
    fields = json.loads(await request.body())["article"]
    tags = sorted({tag.strip() for tag in fields.get("tagList", []) if tag.strip()})
    now = datetime.now(UTC)
    values = (_new_id(), viewer, _slugify(fields["title"]), fields["title"],
              fields["description"], fields["body"], now, now)  # fmt: skip
    row = await db.create_article(viewer, values, tags, (viewer, viewer))
    if row is None:
        return _not_found()
    return _json({"article": _article(row)}, 201)


@app.get("/cached/{name:path}")
async def cached(request: Request, name: str) -> Response:
    redis: Redis | None = request.app.state.redis
    if redis is None:
        return _not_found()
    value = await redis.get(request.app.state.prefix + name)
    if value is None:
        return _not_found()
    return Response(value, media_type="application/json")


if __name__ == "__main__":
    # `python bench/floor.py --host H --port P --workers N` (bench/servers.py): uvicorn with the
    # event loop and HTTP parser Conduit's `serve` gives it. On plain uvloop the floor would
    # accept a burst of wrk's connections one per loop iteration (entrypoints/eventloop.py),
    # its first requests waiting seconds: worse figures than this machine's. uvicorn's command
    # line takes no loop factory, hence this.
    import argparse
    import os

    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    given = parser.parse_args()
    uvicorn.run(
        "floor:app",
        app_dir=os.path.dirname(os.path.abspath(__file__)),
        host=given.host,
        port=given.port,
        workers=given.workers,
        access_log=False,
        log_level="warning",
        http="httptools",
        loop="entrypoints.eventloop:new_event_loop",
    )
