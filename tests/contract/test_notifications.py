"""Notifications contract: NotificationRepository + NotificationQueries on memory, SQLite and
Postgres (core/notifications/ports.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.articles.model import Article, Comment
from core.notifications.ports import NotificationQueries
from core.notifications.views import NotificationPage
from core.shared.ids import UserId
from core.users.model import User
from entrypoints.container import AppUnitOfWork
from entrypoints.storage.backend import StorageAdapters
from tests.builders import WHEN, a_comment, a_user, an_article
from tests.contract.seed import follow, store


@pytest.fixture
def notification_queries(storage_adapters: StorageAdapters) -> NotificationQueries:
    return storage_adapters.notifications


class Cast:
    """jake wrote an article; jane commented on it; bob follows jake."""

    def __init__(self, jake: User, jane: User, bob: User, article: Article, comment: Comment):
        self.jake, self.jane, self.bob = jake, jane, bob
        self.article, self.comment = article, comment


@pytest.fixture
async def cast(uow: AppUnitOfWork) -> Cast:
    jake, jane, bob = a_user("jake", bio="author"), a_user("jane"), a_user("bob")
    article = an_article(jake.id, title="Dragons")
    [comment] = await store(
        uow, jake, jane, bob, article, a_comment(article.id, jane.id, body="Nice")
    )
    await follow(uow, bob, jake)
    return Cast(jake, jane, bob, article, comment)


async def _page(
    queries: NotificationQueries,
    user: User,
    *,
    before: int | None = None,
    limit: int = 20,
    unread_only: bool = False,
) -> NotificationPage:
    return await queries.list_notifications(
        user.id, before=before, limit=limit, unread_only=unread_only
    )


async def test_each_kind_is_stored_for_its_recipient_with_what_it_is_about(
    uow: AppUnitOfWork, notification_queries: NotificationQueries, cast: Cast
) -> None:
    assert cast.comment.id is not None
    async with uow.begin() as tx:
        await tx.notifications.add_follow(cast.jane.id, cast.jake.id, WHEN)
        await tx.notifications.add_favorite(cast.jane.id, cast.article.id, WHEN)
        await tx.notifications.add_comment(cast.comment.id, WHEN)
        await tx.notifications.add_article(cast.article.id, WHEN)
        await tx.commit()

    jakes = await _page(notification_queries, cast.jake)
    bobs = await _page(notification_queries, cast.bob)

    assert [(n.type, n.actor.username) for n in jakes.items] == [
        ("comment", "jane"),
        ("favorite", "jane"),
        ("follow", "jane"),
    ]
    comment, favorite, followed = jakes.items
    assert comment.article == ("dragons", "Dragons")
    assert comment.comment == (cast.comment.id, "Nice")
    assert (favorite.article, favorite.comment) == (("dragons", "Dragons"), None)
    assert (followed.article, followed.comment) == (None, None)
    assert (followed.created_at, followed.read_at) == (WHEN, None)
    assert jakes.unread_count == 3
    [article] = bobs.items
    assert (article.type, article.actor.username, article.actor.bio) == (
        "article",
        "jake",
        "author",
    )
    assert article.actor.following is True  # bob follows jake


async def test_nobody_is_notified_of_their_own_doing(
    uow: AppUnitOfWork, notification_queries: NotificationQueries, cast: Cast
) -> None:
    own = a_comment(cast.article.id, cast.jake.id)
    [own_comment] = await store(uow, own)
    assert own_comment.id is not None
    async with uow.begin() as tx:
        await tx.notifications.add_favorite(cast.jake.id, cast.article.id, WHEN)
        await tx.notifications.add_comment(own_comment.id, WHEN)
        await tx.notifications.add_follow(cast.jake.id, cast.jake.id, WHEN)
        await tx.commit()

    assert (await _page(notification_queries, cast.jake)).items == ()


async def test_deleting_the_comment_or_article_deletes_its_notifications(
    uow: AppUnitOfWork, notification_queries: NotificationQueries, cast: Cast
) -> None:
    assert cast.comment.id is not None
    async with uow.begin() as tx:
        await tx.notifications.add_comment(cast.comment.id, WHEN)
        await tx.notifications.add_follow(cast.jane.id, cast.jake.id, WHEN)
        await tx.commit()
    async with uow.begin() as tx:
        await tx.comments.delete(cast.comment.id)
        await tx.commit()
    after_comment = await _page(notification_queries, cast.jake)
    async with uow.begin() as tx:
        await tx.notifications.add_favorite(cast.jane.id, cast.article.id, WHEN)
        await tx.commit()
    async with uow.begin() as tx:
        await tx.articles.delete(cast.article.id)
        await tx.commit()
    after_article = await _page(notification_queries, cast.jake)

    assert [n.type for n in after_comment.items] == ["follow"]
    assert [n.type for n in after_article.items] == ["follow"]
    assert after_article.unread_count == 1


async def test_what_is_gone_before_the_relay_notifies_nobody(
    uow: AppUnitOfWork, notification_queries: NotificationQueries, cast: Cast
) -> None:
    assert cast.comment.id is not None
    async with uow.begin() as tx:
        await tx.articles.delete(cast.article.id)  # its comment goes with it
        await tx.commit()
    async with uow.begin() as tx:
        await tx.notifications.add_comment(cast.comment.id, WHEN)
        await tx.notifications.add_favorite(cast.jane.id, cast.article.id, WHEN)
        await tx.notifications.add_article(cast.article.id, WHEN)
        await tx.notifications.add_follow(UserId(cast.article.id), cast.jake.id, WHEN)  # no user
        await tx.commit()

    assert (await _page(notification_queries, cast.jake)).items == ()
    assert (await _page(notification_queries, cast.bob)).items == ()


async def test_pages_go_newest_first_with_a_cursor(
    uow: AppUnitOfWork, notification_queries: NotificationQueries, cast: Cast
) -> None:
    async with uow.begin() as tx:
        for i in range(5):
            await tx.notifications.add_follow(cast.jane.id, cast.jake.id, WHEN + timedelta(i))
        await tx.commit()

    first = await _page(notification_queries, cast.jake, limit=2)
    second = await _page(notification_queries, cast.jake, before=first.next_cursor, limit=2)
    third = await _page(notification_queries, cast.jake, before=second.next_cursor, limit=2)

    ids = [n.id for page in (first, second, third) for n in page.items]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 5
    assert first.next_cursor == first.items[-1].id
    assert third.next_cursor is None
    assert [n.created_at for n in first.items] == [WHEN + timedelta(4), WHEN + timedelta(3)]


async def test_mark_read_touches_only_the_recipients_chosen_unread_ones(
    uow: AppUnitOfWork, notification_queries: NotificationQueries, cast: Cast
) -> None:
    async with uow.begin() as tx:
        for _ in range(3):
            await tx.notifications.add_follow(cast.jane.id, cast.jake.id, WHEN)
        await tx.notifications.add_follow(cast.jake.id, cast.jane.id, WHEN)
        await tx.commit()
    jakes = [n.id for n in (await _page(notification_queries, cast.jake)).items]
    [janes] = [n.id for n in (await _page(notification_queries, cast.jane)).items]
    read_at = WHEN + timedelta(hours=1)

    async with uow.begin() as tx:
        await tx.notifications.mark_read(cast.jake.id, [jakes[0], janes], read_at)
        await tx.commit()
    async with uow.begin() as tx:  # again, later: keeps the first read_at
        await tx.notifications.mark_read(cast.jake.id, [jakes[0]], read_at + timedelta(hours=1))
        await tx.commit()
    unread = await _page(notification_queries, cast.jake, unread_only=True)
    all_jakes = await _page(notification_queries, cast.jake)

    assert [n.id for n in unread.items] == jakes[1:]
    assert (unread.unread_count, all_jakes.unread_count) == (2, 2)
    assert all_jakes.items[0].read_at == read_at
    assert (await _page(notification_queries, cast.jane)).unread_count == 1

    async with uow.begin() as tx:
        await tx.notifications.mark_read(cast.jake.id, None, read_at)
        await tx.commit()
    assert (await _page(notification_queries, cast.jake)).unread_count == 0
    assert (await _page(notification_queries, cast.jane)).unread_count == 1


async def test_each_add_returns_the_recipient_and_id_of_what_it_added(
    uow: AppUnitOfWork, notification_queries: NotificationQueries, cast: Cast
) -> None:
    assert cast.comment.id is not None
    async with uow.begin() as tx:
        followed = await tx.notifications.add_follow(cast.jane.id, cast.jake.id, WHEN)
        own = await tx.notifications.add_follow(cast.jake.id, cast.jake.id, WHEN)
        commented = await tx.notifications.add_comment(cast.comment.id, WHEN)
        published = await tx.notifications.add_article(cast.article.id, WHEN)
        await tx.commit()

    jakes = await _page(notification_queries, cast.jake)
    [bobs] = (await _page(notification_queries, cast.bob)).items
    assert own == []
    assert followed + commented == [(cast.jake.id, n.id) for n in reversed(jakes.items)]
    assert published == [(cast.bob.id, bobs.id)]


async def test_add_articles_adds_what_one_add_article_each_would_in_that_order(
    uow: AppUnitOfWork, notification_queries: NotificationQueries, cast: Cast
) -> None:
    later = an_article(cast.jake.id, title="Wyverns")
    elsewhere = an_article(cast.jane.id, title="Unfollowed")
    await store(uow, later, elsewhere)
    await follow(uow, cast.jane, cast.jake)
    async with uow.begin() as tx:
        added = await tx.notifications.add_articles(
            [(later.id, WHEN), (elsewhere.id, WHEN), (cast.article.id, WHEN + timedelta(1))]
        )
        none = await tx.notifications.add_articles([])
        await tx.commit()

    followers = sorted([cast.bob, cast.jane], key=lambda user: user.id)
    # jake's followers for `later`, then for `article`; nobody follows jane.
    assert [recipient for recipient, _ in added] == [u.id for u in followers] * 2
    assert [i for _, i in added] == sorted(i for _, i in added)
    assert none == []
    [bobs_latest, bobs_first] = (await _page(notification_queries, cast.bob)).items
    assert (bobs_first.article, bobs_latest.article) == (
        (later.slug, later.title),
        (cast.article.slug, cast.article.title),
    )
