"""A burst of 200 concurrent mixed requests (reads, article and comment writes, favorites,
logins) against `conduit serve --workers 2` on PostgreSQL with Redis: no 5xx, no dropped
connection, and every write acknowledged is there afterwards, in the database and through the
(cached) API."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx2
import pytest
from sqlalchemy.engine import make_url

from adapters.sql.engine import make_engine
from entrypoints.storage.schema import migrate
from tests.faults._live import Server, serving
from tests.infra import ADMIN_URL, run_sync, unavailable

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis]

USERS = 10
READS, ARTICLES, COMMENTS, FAVORITES, LOGINS = 80, 60, 40, USERS, USERS
BURST = READS + ARTICLES + COMMENTS + FAVORITES + LOGINS
PASSWORD = "password1"


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A database of this module's own on the shared server, migrated, dropped afterwards."""
    name = f"conduit_faults_{uuid.uuid4().hex[:12]}"
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(dsn(ADMIN_URL), timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def migrated() -> None:
        engine = make_engine(url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    try:
        run_sync(lambda: admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        unavailable("PostgreSQL", exc)
    try:
        run_sync(migrated)
        yield url
    finally:
        run_sync(lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Burst:
    """The users, their tokens and the seed article the burst works on; what it got back."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.tokens: dict[str, str] = {}
        self.seed = ""
        self.statuses: list[int] = []
        self.errors: list[str] = []
        self.articles: set[str] = set()
        self.comments: set[int] = set()

    def prepare(self) -> None:
        with httpx2.Client(base_url=self.server.api, timeout=30) as http:
            for i in range(USERS):
                name = f"user{i}"
                user = {"username": name, "email": f"{name}@x.io", "password": PASSWORD}
                response = http.post("/users", json={"user": user})
                assert response.status_code == 201, response.text
                self.tokens[name] = response.json()["user"]["token"]
            article = {"title": "seed", "description": "d", "body": "b"}
            response = http.post("/articles", json={"article": article}, headers=self.auth("user0"))
            assert response.status_code == 201, response.text
            self.seed = response.json()["article"]["slug"]

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Token {self.tokens[name]}"}

    def requests(self) -> list[tuple[str, str, dict[str, object] | None, dict[str, str]]]:
        """(method, path, JSON body, headers): BURST of them, shuffled."""
        names = list(self.tokens)
        reads = ["/articles", "/tags", f"/articles/{self.seed}", "/profiles/user1", "/user"]
        mix: list[tuple[str, str, dict[str, object] | None, dict[str, str]]] = []
        mix += [
            ("GET", reads[i % len(reads)], None, self.auth(names[i % USERS])) for i in range(READS)
        ]
        mix += [
            (
                "POST",
                "/articles",
                {"article": {"title": f"burst {i}", "description": "d", "body": "b"}},
                self.auth(names[i % USERS]),
            )
            for i in range(ARTICLES)
        ]
        mix += [
            (
                "POST",
                f"/articles/{self.seed}/comments",
                {"comment": {"body": f"comment {i}"}},
                self.auth(names[i % USERS]),
            )
            for i in range(COMMENTS)
        ]
        mix += [
            ("POST", f"/articles/{self.seed}/favorite", None, self.auth(name)) for name in names
        ]
        mix += [
            (
                "POST",
                "/users/login",
                {"user": {"email": f"{name}@x.io", "password": PASSWORD}},
                {},
            )
            for name in names
        ]
        assert len(mix) == BURST
        random.Random(11).shuffle(mix)
        return mix

    async def fire(self) -> None:
        limits = httpx2.Limits(max_connections=BURST, max_keepalive_connections=BURST)
        async with httpx2.AsyncClient(base_url=self.server.api, timeout=60, limits=limits) as http:
            await asyncio.gather(*(self.one(http, *request) for request in self.requests()))

    async def one(
        self,
        http: httpx2.AsyncClient,
        method: str,
        path: str,
        body: dict[str, object] | None,
        headers: dict[str, str],
    ) -> None:
        try:
            response = await http.request(method, path, json=body, headers=headers)
        except httpx2.HTTPError as exc:
            self.errors.append(f"{method} {path}: {type(exc).__name__}")
            return
        self.statuses.append(response.status_code)
        if method == "POST" and path == "/articles" and response.status_code == 201:
            self.articles.add(response.json()["article"]["slug"])
        elif path.endswith("/comments") and response.status_code == 200:
            self.comments.add(response.json()["comment"]["id"])
        elif path == "/users/login" and response.status_code == 200:
            assert response.json()["user"]["token"]


async def stored(url: str) -> tuple[set[str], set[int], int]:
    connection = await asyncpg.connect(dsn(url))
    try:
        slugs = {row["slug"] for row in await connection.fetch("SELECT slug FROM articles")}
        ids = {row["id"] for row in await connection.fetch("SELECT id FROM comments")}
        favorites = await connection.fetchval("SELECT count(*) FROM favorites")
    finally:
        await connection.close()
    return slugs, ids, int(favorites)


def test_a_burst_of_200_mixed_requests_loses_nothing(
    database: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_prefix,
        "DB_POOL_SIZE": "10",
        # The cheapest Argon2id the settings allow: the burst is about losing nothing.
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "8192",
    }
    began = time.monotonic()
    with serving(env, tmp_path, "--workers", "2") as server:
        serving_after = time.monotonic() - began
        burst = Burst(server)
        burst.prepare()
        started = time.monotonic()
        prepared_in = started - began - serving_after
        asyncio.run(burst.fire())
        took = time.monotonic() - started

        assert burst.errors == []
        assert sorted(set(burst.statuses)) == [200, 201], sorted(burst.statuses)
        assert len(burst.statuses) == BURST
        # Through the API, cache included: each new article, the seed's comments and favorites.
        with httpx2.Client(base_url=server.api, timeout=10) as http:
            listed = http.get("/articles", params={"limit": 100}).json()["articles"]
            assert burst.articles <= {article["slug"] for article in listed}
            seed = http.get(f"/articles/{burst.seed}").json()["article"]
            assert seed["favoritesCount"] == FAVORITES
            comments = http.get(f"/articles/{burst.seed}/comments").json()["comments"]
            assert {c["id"] for c in comments} == burst.comments
        log = server.output()

    assert len(burst.articles) == ARTICLES
    assert len(burst.comments) == COMMENTS
    slugs, ids, favorites = asyncio.run(stored(database))
    assert burst.articles <= slugs
    assert burst.comments <= ids
    assert favorites == FAVORITES
    assert "Traceback" not in log
    print(
        f"\nserving after {serving_after:.1f} s, prepared in {prepared_in:.1f} s,"
        f" {BURST} concurrent requests answered in {took:.2f} s"
    )
