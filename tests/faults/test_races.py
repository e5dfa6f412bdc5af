"""Races against a live `conduit serve --workers 2` on PostgreSQL with Redis, over real HTTP
(issue 11, points 1 and 2; tests/integration/ has the same races in one process).

- Edits (tags), favorites and comments fired in parallel with one delete of their article answer
  2xx or 404, never 5xx (a write that commits after the delete violates a foreign key, which the
  adapter maps to ArticleNotFound), and leave no row referring to the deleted article.
- One title at once gets a slug each, never 422: 20 concurrent creates give 20 x 201 and 20
  distinct slugs; two articles renamed to one title at once both answer 200, with distinct slugs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Coroutine, Iterator
from typing import Any

import asyncpg
import httpx2
import pytest
from sqlalchemy.engine import make_url

from core.articles.model import slugify
from tests.api.helpers import Account, publish, register
from tests.faults._live import Server, serving

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis]

ROUNDS = 6
WRITERS = 4  # of each kind (edit, favorite, comment), per round
CREATES = 20
RENAMES = 5  # rounds of two renames to one title

Answer = tuple[str, int, str]  # (kind, status, body)


@pytest.fixture(scope="module")
def server(
    pg_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server for the module, on this run's database: the tests use names of their own."""
    env = {
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"conduit-test:races:{uuid.uuid4().hex[:8]}:",
        # The cheapest Argon2id the settings allow: these tests are about races, not hashing.
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "8192",
    }
    with serving(env, tmp_path_factory.mktemp("races"), "--workers", "2") as live:
        yield live
        log = live.output()
    assert "Traceback" not in log, log[-4000:]


def client(server: Server) -> httpx2.AsyncClient:
    limits = httpx2.Limits(max_connections=64, max_keepalive_connections=64)
    return httpx2.AsyncClient(base_url=server.root, timeout=30, limits=limits)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coroutine)


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def leftovers(pg_url: str, slugs: list[str]) -> dict[str, int]:
    """What the database holds of the deleted articles: their rows, and rows referring to any
    article id that is not in `articles` (a write half-done past a delete)."""
    connection = await asyncpg.connect(dsn(pg_url), timeout=5)
    try:
        found = {
            "articles": await connection.fetchval(
                "SELECT count(*) FROM articles WHERE slug = ANY($1::text[])", slugs
            )
        }
        for table in ("comments", "favorites", "article_tags"):
            found[table] = await connection.fetchval(
                f"SELECT count(*) FROM {table} t"  # one of the three above
                " WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = t.article_id)"
            )
    finally:
        await connection.close()
    return {table: int(count) for table, count in found.items()}


# --- point 1: writes racing a delete ----------------------------------------------------------


async def _round(
    http: httpx2.AsyncClient, author: Account, fans: list[Account], n: int
) -> tuple[str, list[Answer]]:
    slug = (await publish(http, author, unique(f"Doomed {n} "), tags=["a", "b"]))["slug"]
    url = f"/api/articles/{slug}"

    async def edit(i: int) -> Answer:
        article = {"body": f"edit {i}", "tagList": [f"t{n}-{i}", f"u{n}-{i}"]}
        response = await http.put(url, json={"article": article}, headers=author.auth)
        return "edit", response.status_code, response.text

    async def fav(fan: Account) -> Answer:
        response = await http.post(f"{url}/favorite", headers=fan.auth)
        return "favorite", response.status_code, response.text

    async def comment(fan: Account) -> Answer:
        response = await http.post(
            f"{url}/comments", json={"comment": {"body": "hi"}}, headers=fan.auth
        )
        return "comment", response.status_code, response.text

    async def delete() -> Answer:
        response = await http.delete(url, headers=author.auth)
        return "delete", response.status_code, response.text

    writes = [edit(i) for i in range(WRITERS)]
    writes += [fav(fan) for fan in fans] + [comment(fan) for fan in fans]
    # Interleaved kinds, the delete in the middle: some writes land before it, some after.
    writes = writes[0::3] + writes[1::3] + writes[2::3]
    half = len(writes) // 2
    answers = await asyncio.gather(*writes[:half], delete(), *writes[half:])
    gone = await http.get(url)
    assert gone.status_code == 404, gone.text
    return slug, list(answers)


def test_edits_favorites_and_comments_racing_a_delete_answer_2xx_or_404_and_leave_nothing(
    server: Server, pg_url: str
) -> None:
    answers: list[Answer] = []
    slugs: list[str] = []

    async def rounds() -> None:
        async with client(server) as http:
            author = await register(http, unique("author"))
            fans = [await register(http, unique(f"fan{i}")) for i in range(WRITERS)]
            for n in range(ROUNDS):
                slug, got = await _round(http, author, fans, n)
                slugs.append(slug)
                answers.extend(got)

    run(rounds())

    statuses = Counter((kind, status) for kind, status, _ in answers)
    print(f"\n{ROUNDS} rounds: {dict(sorted(statuses.items()))}")
    unexpected = [a for a in answers if not (200 <= a[1] < 300 or a[1] == 404)]
    assert not unexpected, (statuses, unexpected[:3])
    assert statuses[("delete", 204)] == ROUNDS, statuses
    # The race was run: writes landed on both sides of the deletes.
    writes = [status for kind, status, _ in answers if kind != "delete"]
    assert 404 in writes, statuses
    assert any(200 <= status < 300 for status in writes), statuses
    # Nothing half-written: the articles are gone and no row refers to a missing article.
    assert asyncio.run(leftovers(pg_url, slugs)) == {
        "articles": 0,
        "comments": 0,
        "favorites": 0,
        "article_tags": 0,
    }


# --- point 2: one title at once ---------------------------------------------------------------


def test_twenty_concurrent_creates_with_one_title_get_twenty_distinct_slugs(
    server: Server,
) -> None:
    title = unique("Same title ")
    responses: list[httpx2.Response] = []

    async def creates() -> None:
        async with client(server) as http:
            author = await register(http, unique("writer"))
            article = {"article": {"title": title, "description": "d", "body": "b"}}
            responses.extend(
                await asyncio.gather(
                    *(
                        http.post("/api/articles", json=article, headers=author.auth)
                        for _ in range(CREATES)
                    )
                )
            )

    run(creates())

    failed = [r.text for r in responses if r.status_code != 201]
    assert [r.status_code for r in responses] == [201] * CREATES, failed[:3]
    slugs = {r.json()["article"]["slug"] for r in responses}
    assert len(slugs) == CREATES
    assert slugify(title) in slugs  # one of them got the plain slug


def test_two_articles_renamed_to_one_title_at_once_both_answer_200_with_distinct_slugs(
    server: Server,
) -> None:
    # A few rounds, each to a title of its own: two requests collide less often than 20.
    titles = [unique(f"Renamed {n} ") for n in range(RENAMES)]
    rounds: list[list[httpx2.Response]] = []
    stored: list[str] = []

    async def renames() -> None:
        async with client(server) as http:
            author = await register(http, unique("renamer"))
            for title in titles:
                pair = [(await publish(http, author, unique("Draft ")))["slug"] for _ in "ab"]
                rename = {"article": {"title": title}}
                responses = await asyncio.gather(
                    *(
                        http.put(f"/api/articles/{slug}", json=rename, headers=author.auth)
                        for slug in pair
                    )
                )
                rounds.append(list(responses))
                for response in responses:
                    if response.status_code == 200:
                        slug = response.json()["article"]["slug"]
                        stored.append(
                            (await http.get(f"/api/articles/{slug}")).json()["article"]["title"]
                        )

    run(renames())

    for title, responses in zip(titles, rounds, strict=True):
        failed = [r.text for r in responses if r.status_code != 200]
        assert [r.status_code for r in responses] == [200, 200], failed
        slugs = {r.json()["article"]["slug"] for r in responses}
        assert len(slugs) == 2
        assert slugify(title) in slugs
    assert stored == [title for title in titles for _ in "ab"]
