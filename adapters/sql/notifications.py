"""Notifications in SQL: written by the outbox relay (INSERT ... SELECT from the current rows),
read by their recipient with the actor's profile, the article and the comment joined."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Uuid,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import Reads, Statements, WriteConnection
from adapters.sql.tables import UtcDateTime, articles, comments, follows, notifications, users
from core.notifications.ports import Added
from core.notifications.views import NotificationPage, NotificationView
from core.profiles.views import ProfileView
from core.shared.errors import ConcurrentChange
from core.shared.ids import ArticleId, CommentId, UserId

_COLUMNS = ["recipient_id", "type", "actor_id", "article_id", "comment_id", "created_at"]


def _at(value: datetime) -> Any:
    return literal(value, UtcDateTime())


def _user(value: UserId) -> Any:
    return literal(value, Uuid())


def _user_exists(user_id: UserId) -> Any:
    return exists().where(users.c.id == user_id)


# Postgres: the notifications of several published articles in one statement, in the order
# the articles come (WITH ORDINALITY), each article's followers by id, as `add_article` does.
_INSERT_ARTICLES = text(
    """INSERT INTO notifications (recipient_id, type, actor_id, article_id, comment_id, created_at)
SELECT follows.follower_id, 'article', articles.author_id, articles.id, NULL, published.at
FROM unnest(CAST(:ids AS UUID[]), CAST(:ats AS TIMESTAMP WITH TIME ZONE[]))
 WITH ORDINALITY AS published(article_id, at, n)
JOIN articles ON articles.id = published.article_id
JOIN follows ON follows.followee_id = articles.author_id
ORDER BY published.n, follows.follower_id
RETURNING notifications.recipient_id, notifications.id"""
).bindparams(
    bindparam("ids", type_=postgresql.ARRAY(Uuid())),
    bindparam("ats", type_=postgresql.ARRAY(DateTime(timezone=True))),
)


def _by_id(pair: tuple[UserId, int]) -> int:
    return pair[1]


class SqlNotificationRepository:
    def __init__(self, connection: Statements) -> None:
        self._connection = connection

    async def _insert_from(self, source: Any) -> Added:
        statement = (
            insert(notifications)
            .from_select(_COLUMNS, source)
            .returning(notifications.c.recipient_id, notifications.c.id)
        )
        try:
            result = await self._connection.execute(statement)
        except IntegrityError as exc:
            # The article, comment or user was deleted between our SELECT and the foreign
            # key's check (a delete committed meanwhile): the batch runs again without it.
            raise ConcurrentChange("a notification's subject was deleted meanwhile") from exc
        added = [(UserId(row[0]), int(row[1])) for row in result.all()]
        return sorted(added, key=lambda pair: pair[1])

    async def add_follow(self, follower_id: UserId, followee_id: UserId, at: datetime) -> Added:
        if follower_id == followee_id:
            return []
        source = select(
            _user(followee_id), literal("follow"), _user(follower_id), null(), null(), _at(at)
        ).where(_user_exists(follower_id), _user_exists(followee_id))
        return await self._insert_from(source)

    async def add_favorite(self, actor_id: UserId, article_id: ArticleId, at: datetime) -> Added:
        source = select(
            articles.c.author_id,
            literal("favorite"),
            _user(actor_id),
            articles.c.id,
            null(),
            _at(at),
        ).where(
            articles.c.id == article_id, articles.c.author_id != actor_id, _user_exists(actor_id)
        )
        return await self._insert_from(source)

    async def add_comment(self, comment_id: CommentId, at: datetime) -> Added:
        source = (
            select(
                articles.c.author_id,
                literal("comment"),
                comments.c.author_id,
                articles.c.id,
                comments.c.id,
                _at(at),
            )
            .select_from(comments.join(articles, articles.c.id == comments.c.article_id))
            .where(comments.c.id == comment_id, articles.c.author_id != comments.c.author_id)
        )
        return await self._insert_from(source)

    async def add_article(self, article_id: ArticleId, at: datetime) -> Added:
        source = (
            select(
                follows.c.follower_id,
                literal("article"),
                articles.c.author_id,
                articles.c.id,
                null(),
                _at(at),
            )
            .select_from(articles.join(follows, follows.c.followee_id == articles.c.author_id))
            .where(articles.c.id == article_id)
            .order_by(follows.c.follower_id)
        )
        return await self._insert_from(source)

    async def add_articles(self, published: Sequence[tuple[ArticleId, datetime]]) -> Added:
        if self._connection.dialect.name != "postgresql" or not published:
            added: Added = []
            for article_id, at in published:
                added += await self.add_article(article_id, at)
            return added
        parameters = {"ids": [i for i, _ in published], "ats": [at for _, at in published]}
        connection = self._connection
        try:
            if isinstance(connection, WriteConnection):  # the relay's hot path
                rows = [
                    tuple(r.values()) for r in await connection.run(_INSERT_ARTICLES, parameters)
                ]
            else:
                rows = [tuple(r) for r in await connection.execute(_INSERT_ARTICLES, parameters)]
        except IntegrityError as exc:
            raise ConcurrentChange("a notification's subject was deleted meanwhile") from exc
        return sorted(((UserId(row[0]), int(row[1])) for row in rows), key=_by_id)

    async def mark_read(
        self, recipient_id: UserId, ids: Sequence[int] | None, now: datetime
    ) -> None:
        statement = update(notifications).where(
            notifications.c.recipient_id == recipient_id, notifications.c.read_at.is_(None)
        )
        if ids is not None:
            if not ids:
                return
            statement = statement.where(notifications.c.id.in_(list(ids)))
        await self._connection.execute(statement.values(read_at=now))


_actor = users.alias("actor")


def _page_query(recipient_id: UserId, before: int | None, limit: int, unread_only: bool) -> Any:
    n = notifications
    following = exists().where(
        and_(follows.c.follower_id == n.c.recipient_id, follows.c.followee_id == n.c.actor_id)
    )
    query = (
        select(
            n.c.id,
            n.c.type,
            n.c.created_at,
            n.c.read_at,
            _actor.c.username,
            _actor.c.bio,
            _actor.c.image,
            following.label("following"),
            articles.c.slug,
            articles.c.title,
            comments.c.id.label("comment_id"),
            comments.c.body.label("comment_body"),
        )
        .select_from(
            n.join(_actor, _actor.c.id == n.c.actor_id)
            .outerjoin(articles, articles.c.id == n.c.article_id)
            .outerjoin(comments, comments.c.id == n.c.comment_id)
        )
        .where(n.c.recipient_id == recipient_id)
        .order_by(n.c.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(n.c.id < before)
    if unread_only:
        query = query.where(n.c.read_at.is_(None))
    return query


def _view(row: Any) -> NotificationView:
    return NotificationView(
        id=int(row["id"]),
        type=row["type"],
        actor=ProfileView(row["username"], row["bio"], row["image"], bool(row["following"])),
        article=None if row["slug"] is None else (row["slug"], row["title"]),
        comment=None
        if row["comment_id"] is None
        else (int(row["comment_id"]), row["comment_body"]),
        created_at=row["created_at"],
        read_at=row["read_at"],
    )


class SqlNotificationQueries:
    """NotificationQueries in SQL: two statements (the page, the unread count)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._reads = Reads(engine)

    async def list_notifications(
        self, recipient_id: UserId, *, before: int | None, limit: int, unread_only: bool
    ) -> NotificationPage:
        unread = select(func.count()).where(
            notifications.c.recipient_id == recipient_id, notifications.c.read_at.is_(None)
        )
        async with self._reads.connect() as connection:
            result = await connection.execute(_page_query(recipient_id, before, limit, unread_only))
            rows = [dict(row) for row in result.mappings()]
            count = (await connection.execute(unread)).scalar_one()
        items = tuple(_view(row) for row in rows[:limit])
        more = len(rows) > limit
        return NotificationPage(items, items[-1].id if more else None, int(count))
