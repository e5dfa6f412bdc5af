"""The outbox and notifications in memory, over a transaction's MemoryState."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from core.notifications.ports import Added
from core.notifications.views import NotificationPage, NotificationView
from core.profiles.views import ProfileView
from core.shared.ids import ArticleId, CommentId, UserId
from core.shared.outbox import OutboxMessage, StoredMessage

if TYPE_CHECKING:
    from adapters.memory.store import MemoryDatabase, MemoryState


@dataclass(frozen=True, slots=True)
class OutboxRow:
    stored: StoredMessage
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NotificationRow:
    id: int
    recipient_id: UserId
    type: str
    actor_id: UserId
    article_id: ArticleId | None
    comment_id: CommentId | None
    created_at: datetime
    read_at: datetime | None = None


def write_outbox(state: MemoryState, messages: Sequence[OutboxMessage], now: datetime) -> None:
    for message in messages:
        state.last_outbox_id += 1
        stored = StoredMessage(state.last_outbox_id, message, now)
        state.outbox[state.last_outbox_id] = OutboxRow(stored)


class InMemoryOutboxRepository:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    async def claim(self, limit: int) -> list[StoredMessage]:
        # One writer at a time (the database's lock): the oldest unsent rows are ours.
        unsent = sorted(i for i, row in self._s.outbox.items() if row.sent_at is None)
        return [self._s.outbox[i].stored for i in unsent[:limit]]

    async def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        for i in ids:
            if (row := self._s.outbox.get(i)) is not None:
                self._s.outbox[i] = replace(row, sent_at=now)

    async def prune(self, sent_before: datetime) -> int:
        old = [
            i
            for i, row in self._s.outbox.items()
            if row.sent_at is not None and row.sent_at < sent_before
        ]
        for i in old:
            del self._s.outbox[i]
        return len(old)


class InMemoryNotificationRepository:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def _add(
        self,
        recipient: UserId,
        type_: str,
        actor: UserId,
        at: datetime,
        article: ArticleId | None = None,
        comment: CommentId | None = None,
    ) -> Added:
        if recipient == actor or recipient not in self._s.users or actor not in self._s.users:
            return []
        self._s.last_notification_id += 1
        i = self._s.last_notification_id
        self._s.notifications[i] = NotificationRow(i, recipient, type_, actor, article, comment, at)
        return [(recipient, i)]

    async def add_follow(self, follower_id: UserId, followee_id: UserId, at: datetime) -> Added:
        return self._add(followee_id, "follow", follower_id, at)

    async def add_favorite(self, actor_id: UserId, article_id: ArticleId, at: datetime) -> Added:
        if (article := self._s.articles.get(article_id)) is None:
            return []
        return self._add(article.author_id, "favorite", actor_id, at, article_id)

    async def add_comment(self, comment_id: CommentId, at: datetime) -> Added:
        comment = self._s.comments.get(comment_id)
        if comment is None or (article := self._s.articles.get(comment.article_id)) is None:
            return []
        return self._add(
            article.author_id, "comment", comment.author_id, at, article.id, comment_id
        )

    async def add_article(self, article_id: ArticleId, at: datetime) -> Added:
        if (article := self._s.articles.get(article_id)) is None:
            return []
        followers = sorted(f for f, followee in self._s.follows if followee == article.author_id)
        added: Added = []
        for follower in followers:
            added += self._add(follower, "article", article.author_id, at, article_id)
        return added

    async def add_articles(self, published: Sequence[tuple[ArticleId, datetime]]) -> Added:
        added: Added = []
        for article_id, at in published:
            added += await self.add_article(article_id, at)
        return added

    async def mark_read(
        self, recipient_id: UserId, ids: Sequence[int] | None, now: datetime
    ) -> None:
        wanted = None if ids is None else set(ids)
        for i, row in list(self._s.notifications.items()):
            mine = row.recipient_id == recipient_id and row.read_at is None
            if mine and (wanted is None or i in wanted):
                self._s.notifications[i] = replace(row, read_at=now)


def _live(state: MemoryState, row: NotificationRow) -> bool:
    """Mirrors ON DELETE CASCADE: a notification about something deleted is gone."""
    if row.article_id is not None and row.article_id not in state.articles:
        return False
    return row.comment_id is None or row.comment_id in state.comments


class InMemoryNotificationQueries:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def list_notifications(
        self, recipient_id: UserId, *, before: int | None, limit: int, unread_only: bool
    ) -> NotificationPage:
        state = self._db.state
        mine = [
            row
            for row in state.notifications.values()
            if row.recipient_id == recipient_id and _live(state, row)
        ]
        unread = sum(1 for row in mine if row.read_at is None)
        rows = sorted(
            (
                row
                for row in mine
                if (before is None or row.id < before) and (not unread_only or row.read_at is None)
            ),
            key=lambda row: row.id,
            reverse=True,
        )
        items = tuple(_view(state, row) for row in rows[:limit])
        return NotificationPage(items, items[-1].id if len(rows) > limit else None, unread)


def _view(state: MemoryState, row: NotificationRow) -> NotificationView:
    actor = state.users[row.actor_id]
    following = (row.recipient_id, row.actor_id) in state.follows
    article = state.articles.get(row.article_id) if row.article_id is not None else None
    comment = state.comments.get(row.comment_id) if row.comment_id is not None else None
    return NotificationView(
        id=row.id,
        type=row.type,
        actor=ProfileView(actor.username, actor.bio, actor.image, following),
        article=None if article is None else (article.slug, article.title),
        comment=None if comment is None or comment.id is None else (comment.id, comment.body),
        created_at=row.created_at,
        read_at=row.read_at,
    )
