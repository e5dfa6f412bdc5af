"""No N+1: list endpoints issue the same, fixed number of SQL statements for 1 or 20 rows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from core.webhooks.model import AttemptResult, DeliveryStatus, NewDelivery, new_message_id
from entrypoints.container import AppUnitOfWork, build_container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.api.helpers import Account, add_comment, favorite, follow, publish, register
from tests.fakes.clock import TickingClock
from tests.infra import Storage

# Transaction control is not a query; SQLite's driver-level BEGIN shows up as a statement.
IGNORED = {"BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE"}

# Observed per request, for an authenticated viewer:
AUTH_STATEMENTS = 1  # the caller's user row (active, token version), for any token
# The page (author, counts, flags and tags as subqueries, the total as a window count).
LIST_STATEMENTS = AUTH_STATEMENTS + 1
FEED_STATEMENTS = AUTH_STATEMENTS + 1  # the same one, filtered to followed authors
COMMENTS_STATEMENTS = AUTH_STATEMENTS + 2  # the article's id, then comments with authors
# The webhook (is it the caller's), the page of deliveries, then the page's attempts.
DELIVERIES_STATEMENTS = AUTH_STATEMENTS + 3


@pytest.fixture
def sql_app(settings: Settings, sql_storage: Storage, clock: TickingClock) -> FastAPI:
    return create_app(settings, container=build_container(settings, sql_storage.infra, clock=clock))


@pytest.fixture
async def sql_client(sql_app: FastAPI) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=sql_app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
def engine(sql_storage: Storage) -> AsyncEngine:
    assert sql_storage.engine is not None
    return sql_storage.engine


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements (transaction control left out) run on `engine` inside the block."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.split(None, 1)[0].upper() not in IGNORED:
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _statements_for(
    client: httpx2.AsyncClient, engine: AsyncEngine, path: str, viewer: Account | None
) -> tuple[int, dict[str, Any]]:
    with counting(engine) as statements:
        response = await client.get(path, headers=viewer.auth if viewer else {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return len(statements), body


class Cast:
    """A viewer following two of three authors, and two fans who favorite articles."""

    def __init__(self, viewer: Account, authors: list[Account], fans: list[Account]) -> None:
        self.viewer, self.authors, self.fans = viewer, authors, fans

    @classmethod
    async def register(cls, client: httpx2.AsyncClient) -> Cast:
        viewer = await register(client, "viewer")
        authors = [await register(client, f"author{i}") for i in range(3)]
        fans = [await register(client, f"fan{i}") for i in range(2)]
        for author in authors[:2]:
            await follow(client, viewer, author.username)
        return cls(viewer, authors, fans)

    async def publish(
        self, client: httpx2.AsyncClient, first: int, last: int, authors: list[Account]
    ) -> None:
        """Articles `first`..`last - 1`, round-robin over `authors`, tagged and favorited."""
        for i in range(first, last):
            article = await publish(
                client, authors[i % len(authors)], f"Article {i}", tags=[f"tag{i}", "common"]
            )
            for fan in self.fans[: 1 + i % 2]:
                await favorite(client, fan, article["slug"])
            if i % 3 == 0:
                await favorite(client, self.viewer, article["slug"])


async def test_article_list_statements_do_not_grow_with_the_page(
    sql_client: httpx2.AsyncClient, engine: AsyncEngine
) -> None:
    cast = await Cast.register(sql_client)
    await cast.publish(sql_client, 0, 1, cast.authors)

    one, page_of_one = await _statements_for(
        sql_client, engine, "/api/articles?limit=20", cast.viewer
    )
    await cast.publish(sql_client, 1, 20, cast.authors)
    twenty, page_of_twenty = await _statements_for(
        sql_client, engine, "/api/articles?limit=20", cast.viewer
    )

    assert len(page_of_one["articles"]) == 1
    assert len(page_of_twenty["articles"]) == 20
    items = page_of_twenty["articles"]
    assert {a["author"]["following"] for a in items} == {True, False}
    assert {a["favorited"] for a in items} == {True, False}
    assert all(len(a["tagList"]) == 2 for a in items)
    assert (one, twenty) == (LIST_STATEMENTS, LIST_STATEMENTS)
    anonymous, _ = await _statements_for(sql_client, engine, "/api/articles?limit=20", None)
    assert anonymous == LIST_STATEMENTS - AUTH_STATEMENTS


async def test_feed_statements_do_not_grow_with_the_page(
    sql_client: httpx2.AsyncClient, engine: AsyncEngine
) -> None:
    cast = await Cast.register(sql_client)
    followed = cast.authors[:2]
    await cast.publish(sql_client, 0, 1, followed)
    await publish(sql_client, cast.authors[2], "Not followed")

    one, feed_of_one = await _statements_for(sql_client, engine, "/api/articles/feed", cast.viewer)
    await cast.publish(sql_client, 1, 20, followed)
    twenty, feed_of_twenty = await _statements_for(
        sql_client, engine, "/api/articles/feed", cast.viewer
    )

    assert (len(feed_of_one["articles"]), feed_of_one["articlesCount"]) == (1, 1)
    assert (len(feed_of_twenty["articles"]), feed_of_twenty["articlesCount"]) == (20, 20)
    assert {a["author"]["username"] for a in feed_of_twenty["articles"]} == {
        "author0",
        "author1",
    }
    assert {a["favorited"] for a in feed_of_twenty["articles"]} == {True, False}
    assert (one, twenty) == (FEED_STATEMENTS, FEED_STATEMENTS)


async def test_comment_list_statements_do_not_grow_with_the_comments(
    sql_client: httpx2.AsyncClient, engine: AsyncEngine
) -> None:
    cast = await Cast.register(sql_client)
    article = await publish(sql_client, cast.authors[0], "Discussed", tags=["talk"])
    commenters = [*cast.authors, *cast.fans, cast.viewer]
    path = f"/api/articles/{article['slug']}/comments"
    await add_comment(sql_client, commenters[0], article["slug"], "comment 0")

    one, comments_of_one = await _statements_for(sql_client, engine, path, cast.viewer)
    for i in range(1, 20):
        await add_comment(sql_client, commenters[i % len(commenters)], article["slug"], f"c {i}")
    twenty, comments_of_twenty = await _statements_for(sql_client, engine, path, cast.viewer)

    assert len(comments_of_one["comments"]) == 1
    assert len(comments_of_twenty["comments"]) == 20
    following = {c["author"]["following"] for c in comments_of_twenty["comments"]}
    assert following == {True, False}
    assert (one, twenty) == (COMMENTS_STATEMENTS, COMMENTS_STATEMENTS)


PROFILE_STATEMENTS = 1  # the profile and the viewer's `following`, by users.username_key


async def test_a_profile_asked_for_in_another_case_is_one_statement(
    sql_client: httpx2.AsyncClient, engine: AsyncEngine
) -> None:
    await register(sql_client, "jake")
    viewer = await register(sql_client, "viewer")

    anonymous, body = await _statements_for(sql_client, engine, "/api/profiles/JAKE", None)
    signed_in, _ = await _statements_for(sql_client, engine, "/api/profiles/Jake", viewer)

    assert body["profile"]["username"] == "jake"
    assert (anonymous, signed_in) == (PROFILE_STATEMENTS, AUTH_STATEMENTS + PROFILE_STATEMENTS)


async def test_an_author_filter_in_another_case_is_one_statement(
    sql_client: httpx2.AsyncClient, engine: AsyncEngine
) -> None:
    jake = await register(sql_client, "jake")
    await publish(sql_client, jake, "By jake")

    anonymous, body = await _statements_for(
        sql_client, engine, "/api/articles?author=JAKE&limit=20", None
    )

    assert [a["author"]["username"] for a in body["articles"]] == ["jake"]
    assert anonymous == LIST_STATEMENTS - AUTH_STATEMENTS


# A comment: the caller, the article and its tags, the INSERT, the read back (5 before issue
# 12); and the one INSERT of the transaction's outbox rows.
COMMENT_WRITE_STATEMENTS = AUTH_STATEMENTS + 4 + 1


async def test_a_write_adds_one_outbox_statement_and_a_read_none(
    sql_client: httpx2.AsyncClient, engine: AsyncEngine
) -> None:
    author, fan = await register(sql_client, "author"), await register(sql_client, "fan")
    slug = (await publish(sql_client, author, "Discussed"))["slug"]
    await add_comment(sql_client, fan, slug, "warm")

    with counting(engine) as written:
        await add_comment(sql_client, fan, slug, "counted")
    with counting(engine) as read:
        response = await sql_client.get(f"/api/articles/{slug}/comments", headers=fan.auth)

    assert response.status_code == 200
    outbox = [s for s in written if "outbox" in s]
    assert len(outbox) == 1, outbox
    assert outbox[0].lstrip().upper().startswith("INSERT INTO OUTBOX")
    assert len(written) == COMMENT_WRITE_STATEMENTS, written
    assert not [s for s in read if "outbox" in s or "notifications" in s]


async def test_delivery_log_statements_do_not_grow_with_deliveries_or_attempts(
    settings: Settings, sql_storage: Storage, clock: TickingClock, engine: AsyncEngine
) -> None:
    settings = settings.model_copy(
        update={"webhook_allow_http": True, "webhook_allow_private": True}
    )
    app = create_app(settings, container=build_container(settings, sql_storage.infra, clock=clock))
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
        jake = await register(client, "jake")
        body = {"webhook": {"url": "http://127.0.0.1:9/hook", "events": ["*"]}}
        created = await client.post("/api/user/webhooks", json=body, headers=jake.auth)
        assert created.status_code == 201, created.text
        webhook_id = created.json()["webhook"]["id"]
        path = f"/api/user/webhooks/{webhook_id}/deliveries?limit=20"
        uow = sql_storage.infra.storage.adapters(listeners=()).uow
        await _attempted(uow, uuid.UUID(webhook_id), ["outbox:0"], attempts=1)
        one, page_of_one = await _statements_for(client, engine, path, jake)
        await _attempted(uow, uuid.UUID(webhook_id), [f"outbox:{n}" for n in range(1, 20)], 3)
        twenty, page_of_twenty = await _statements_for(client, engine, path, jake)
    assert [len(d["attemptLog"]) for d in page_of_one["deliveries"]] == [1]
    assert [len(d["attemptLog"]) for d in page_of_twenty["deliveries"]] == [3] * 19 + [1]
    assert one == twenty == DELIVERIES_STATEMENTS


async def _attempted(
    uow: AppUnitOfWork, webhook_id: uuid.UUID, keys: list[str], attempts: int
) -> None:
    """Deliveries of these events, each attempted (and failed) `attempts` times."""
    now = datetime.now(UTC)
    new = [
        NewDelivery(webhook_id, new_message_id(), key, "article.published", "{}", now)
        for key in keys
    ]
    async with uow.begin() as tx:
        for i in await tx.webhooks.add_deliveries(new):
            for _ in range(attempts):
                result = AttemptResult(500, 1, "no")
                await tx.webhooks.finish(i, result, DeliveryStatus.PENDING, now)
        await tx.commit()
