"""Outbox contract: events commit with their transaction's writes and are claimed in order,
on memory, SQLite and Postgres (core/shared/outbox.py, OutboxRepository)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from core.shared.events import ArticleDeleted, CommentsChanged, ProfileChanged, UserFollowed
from core.shared.ids import ArticleId, CommentId, UserId, new_article_id, new_user_id
from core.shared.outbox import StoredMessage
from entrypoints.container import AppUnitOfWork
from tests.infra import Storage


def _comment(article: ArticleId, comment: int, actor: UserId) -> CommentsChanged:
    return CommentsChanged("slug", article, CommentId(comment), actor)


async def _claim_all(uow: AppUnitOfWork) -> list[StoredMessage]:
    async with uow.begin() as tx:
        return await tx.outbox.claim(1000)


async def test_a_commit_writes_each_event_as_a_message_in_order(uow: AppUnitOfWork) -> None:
    article, jake, jane = new_article_id(), new_user_id(), new_user_id()
    async with uow.begin() as tx:
        tx.record(_comment(article, 1, jake))
        tx.record(UserFollowed(jake, jane))
        tx.record(ProfileChanged("jake", "jacob"))  # the cache's business only: no message
        await tx.commit()

    claimed = await _claim_all(uow)

    assert [(m.message.topic, m.message.type) for m in claimed] == [
        (f"article:{article}", "comment.created"),
        (f"user:{jane}", "user.followed"),
    ]
    assert claimed[0].id < claimed[1].id
    assert dict(claimed[0].message.payload) == {
        "v": 1,
        "articleId": str(article),
        "slug": "slug",
        "commentId": 1,
        "actorId": str(jake),
    }
    assert claimed[0].created_at.tzinfo is not None


async def test_a_rolled_back_transaction_writes_no_message(uow: AppUnitOfWork) -> None:
    async with uow.begin() as tx:
        tx.record(ArticleDeleted("slug", new_article_id()))

    assert await _claim_all(uow) == []


async def test_sent_messages_are_not_claimed_again(uow: AppUnitOfWork) -> None:
    article, jake = new_article_id(), new_user_id()
    async with uow.begin() as tx:
        for i in range(3):
            tx.record(_comment(article, i + 1, jake))
        await tx.commit()
    async with uow.begin() as tx:
        first = await tx.outbox.claim(2)
        await tx.outbox.mark_sent([m.id for m in first], datetime.now(UTC))
        await tx.commit()

    rest = await _claim_all(uow)

    assert [m.message.payload["commentId"] for m in first] == [1, 2]
    assert [m.message.payload["commentId"] for m in rest] == [3]


async def test_marking_sent_without_commit_leaves_the_messages_unsent(
    uow: AppUnitOfWork,
) -> None:
    async with uow.begin() as tx:
        tx.record(_comment(new_article_id(), 1, new_user_id()))
        await tx.commit()
    async with uow.begin() as tx:
        claimed = await tx.outbox.claim(10)
        await tx.outbox.mark_sent([m.id for m in claimed], datetime.now(UTC))

    assert [m.id for m in await _claim_all(uow)] == [m.id for m in claimed]


async def test_prune_deletes_old_sent_messages_but_keeps_the_newest(uow: AppUnitOfWork) -> None:
    async with uow.begin() as tx:
        for i in range(3):
            tx.record(_comment(new_article_id(), i + 1, new_user_id()))
        await tx.commit()
    sent_at = datetime.now(UTC) - timedelta(days=2)
    async with uow.begin() as tx:
        claimed = await tx.outbox.claim(10)
        await tx.outbox.mark_sent([m.id for m in claimed], sent_at)
        await tx.commit()
    async with uow.begin() as tx:
        tx.record(_comment(new_article_id(), 4, new_user_id()))  # unsent: never pruned
        await tx.commit()

    async with uow.begin() as tx:
        pruned = await tx.outbox.prune(datetime.now(UTC) - timedelta(days=1))
        await tx.commit()

    assert pruned == 3
    assert [m.message.payload["commentId"] for m in await _claim_all(uow)] == [4]


async def test_a_concurrent_claim_skips_held_rows_and_keeps_each_topic_in_order(
    storage: Storage, uow: AppUnitOfWork
) -> None:
    if storage.name != "postgres":
        pytest.skip("one writer at a time on SQLite and in memory: no concurrent claim")
    busy, quiet, jake = new_article_id(), new_article_id(), new_user_id()
    async with uow.begin() as tx:
        tx.record(_comment(busy, 1, jake))
        tx.record(_comment(busy, 2, jake))
        tx.record(_comment(quiet, 3, jake))
        await tx.commit()
    held = asyncio.Event()
    release = asyncio.Event()

    async def first_relay() -> list[StoredMessage]:
        async with uow.begin() as tx:
            claimed = await tx.outbox.claim(1)  # busy's first message, held
            held.set()
            await release.wait()
            await tx.outbox.mark_sent([m.id for m in claimed], datetime.now(UTC))
            await tx.commit()
        return claimed

    task = asyncio.create_task(first_relay())
    await held.wait()
    async with uow.begin() as tx:  # the second relay, while the first holds its row
        second = await tx.outbox.claim(10)
    release.set()
    first = await task
    after = await _claim_all(uow)

    assert [m.message.payload["commentId"] for m in first] == [1]
    assert [m.message.payload["commentId"] for m in second] == [3]  # not 2 before 1 is sent
    assert [m.message.payload["commentId"] for m in after] == [2, 3]
