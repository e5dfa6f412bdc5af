"""PostgreSQL restarted (`pg_ctl restart -m fast`) under a bounded write load: every write the
server acknowledged is in the database afterwards, every other answer is a clean 503
`unavailable` in the error schema, and the server serves again without a restart of its own.
The cluster is a throwaway one (initdb on a spare port), never the machine's shared server."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx2
import pytest

from adapters.sql.engine import make_engine
from entrypoints.storage.schema import migrate
from tests.faults._live import Server, serving
from tests.faults._postgres import (
    ThrowawayPostgres,
    throwaway_postgres,
    why_no_throwaway_postgres,
)
from tests.infra import run_sync, unavailable

pytestmark = pytest.mark.faults

WRITERS = 6  # concurrent clients, each one request at a time
WARM_UP_S = 0.7  # load before the restart
AFTER_RESTART_S = 1.5  # load after pg_ctl says the server is back
MAX_REQUESTS = 3_000  # the load's bound, whatever the timing
ERROR_KEYS = {"errors", "code", "requestId"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayPostgres]:
    reason = why_no_throwaway_postgres()
    if reason is not None:
        unavailable("a throwaway PostgreSQL cluster", reason)
    with throwaway_postgres() as pg:
        run_sync(lambda: migrated(pg.url))
        yield pg


async def migrated(url: str) -> None:
    engine = make_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


@dataclass
class Outcomes:
    articles: set[str] = field(default_factory=set)  # slugs answered 201
    comments: set[int] = field(default_factory=set)  # ids answered 200
    failures: list[tuple[int, dict[str, object], str | None]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # transport failures
    sent: int = 0


async def writer(
    http: httpx2.AsyncClient, seed: str, stop: asyncio.Event, numbers: Iterator[int], out: Outcomes
) -> None:
    while not stop.is_set() and out.sent < MAX_REQUESTS:
        n = next(numbers)
        out.sent += 1
        try:
            if n % 2:
                article = {"title": f"load {n}", "description": "d", "body": "b"}
                response = await http.post("/articles", json={"article": article})
            else:
                comment = {"body": f"comment {n}"}
                response = await http.post(f"/articles/{seed}/comments", json={"comment": comment})
        except httpx2.HTTPError as exc:
            out.errors.append(f"{type(exc).__name__}: {exc}")
            continue
        if response.status_code == 201:
            out.articles.add(response.json()["article"]["slug"])
        elif response.status_code == 200:
            out.comments.add(response.json()["comment"]["id"])
        else:
            out.failures.append(
                (response.status_code, response.json(), response.headers.get("retry-after"))
            )


def register(server: Server) -> str:
    user = {"username": "loader", "email": "loader@x.io", "password": "password1"}
    response = httpx2.post(f"{server.api}/users", json={"user": user}, timeout=10)
    assert response.status_code == 201, response.text
    token: str = response.json()["user"]["token"]
    return token


async def drive_writes_across_a_restart(server: Server, pg: ThrowawayPostgres) -> Outcomes:
    token = register(server)
    out = Outcomes()
    headers = {"Authorization": f"Token {token}"}
    async with httpx2.AsyncClient(base_url=server.api, headers=headers, timeout=30) as http:
        seed = await http.post(
            "/articles", json={"article": {"title": "seed", "description": "d", "body": "b"}}
        )
        assert seed.status_code == 201, seed.text
        stop, numbers = asyncio.Event(), itertools.count()
        writers = [
            asyncio.create_task(writer(http, seed.json()["article"]["slug"], stop, numbers, out))
            for _ in range(WRITERS)
        ]
        await asyncio.sleep(WARM_UP_S)
        await asyncio.to_thread(pg.restart)
        await asyncio.sleep(AFTER_RESTART_S)
        stop.set()
        await asyncio.gather(*writers)
    return out


async def stored(pg: ThrowawayPostgres) -> tuple[set[str], set[int]]:
    connection = await asyncpg.connect(pg.url.replace("+asyncpg", ""))
    try:
        slugs = {row["slug"] for row in await connection.fetch("SELECT slug FROM articles")}
        ids = {row["id"] for row in await connection.fetch("SELECT id FROM comments")}
    finally:
        await connection.close()
    return slugs, ids


def test_a_postgres_restart_under_writes_loses_no_acknowledged_write(
    cluster: ThrowawayPostgres, tmp_path: Path
) -> None:
    started = time.monotonic()
    with serving({"DATABASE_URL": cluster.url, "DB_POOL_SIZE": "4"}, tmp_path) as server:
        out = asyncio.run(drive_writes_across_a_restart(server, cluster))

        # The server recovered by itself: the next write and read succeed at once.
        with httpx2.Client(base_url=server.api, timeout=10) as http:
            after = http.post(
                "/users",
                json={"user": {"username": "later", "email": "l@x.io", "password": "password1"}},
            )
            assert after.status_code == 201, after.text
            assert http.get("/articles").status_code == 200
        assert server.proc.poll() is None
        log = server.output()

    assert out.errors == []
    assert out.articles, "the load had no article acknowledged"
    assert out.comments, "the load had no comment acknowledged"
    # Failures while the database was away: 503 `unavailable`, in the schema, with Retry-After.
    for status, body, retry_after in out.failures:
        assert status == 503, (status, body)
        assert set(body) == ERROR_KEYS
        assert body["code"] == "unavailable"
        assert retry_after
    slugs, ids = asyncio.run(stored(cluster))
    assert out.articles <= slugs, f"acknowledged, then lost: {sorted(out.articles - slugs)}"
    assert out.comments <= ids, f"acknowledged, then lost: {sorted(out.comments - ids)}"
    assert "Traceback" not in log
    print(  # the figures, with -s
        f"\n{out.sent} writes in {time.monotonic() - started:.1f} s: {len(out.articles)} articles"
        f" and {len(out.comments)} comments acknowledged, {len(out.failures)} answered 503"
    )
