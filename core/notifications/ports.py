"""Ports of the notifications context."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from core.notifications.views import NotificationPage
from core.shared.ids import ArticleId, CommentId, UserId
from core.shared.outbox import OutboxTransaction

# What an `add_*` wrote: (recipient, notification id) of each notification, in id order.
Added = list[tuple[UserId, int]]


class NotificationRepository(Protocol):
    """Notifications per recipient (contract suite: tests/contract/test_notifications.py).

    - each `add_*` stores what the fact means for whom, reading the current rows: nothing when
      the article, comment or a user is gone by then, and never a notification of an actor to
      themself; ids increase in the order they were added; it returns the (recipient, id) of
      each notification it added
    - deleting an article, a comment or a user deletes the notifications about it
    - `mark_read` sets `read_at` of the recipient's unread notifications among `ids` (all of
      them when `ids` is None); others' notifications are untouched
    """

    async def add_follow(self, follower_id: UserId, followee_id: UserId, at: datetime) -> Added: ...
    async def add_favorite(
        self, actor_id: UserId, article_id: ArticleId, at: datetime
    ) -> Added: ...
    async def add_comment(self, comment_id: CommentId, at: datetime) -> Added: ...
    async def add_article(self, article_id: ArticleId, at: datetime) -> Added:
        """One notification to each follower of the article's author."""
        ...

    async def add_articles(self, published: Sequence[tuple[ArticleId, datetime]]) -> Added:
        """`add_article` of each (article, at), in the order given: the same notifications
        and order as one call each (one statement on Postgres, whatever their number)."""
        ...

    async def mark_read(
        self, recipient_id: UserId, ids: Sequence[int] | None, now: datetime
    ) -> None: ...


class NotificationsTransaction(OutboxTransaction, Protocol):
    @property
    def notifications(self) -> NotificationRepository: ...


class NotificationQueries(Protocol):
    """Read side: a recipient's notifications newest first (by id), `before` an id (the
    cursor) when given, unread only on request; `unread_count` exact; a fixed number of
    statements per call."""

    async def list_notifications(
        self, recipient_id: UserId, *, before: int | None, limit: int, unread_only: bool
    ) -> NotificationPage: ...
