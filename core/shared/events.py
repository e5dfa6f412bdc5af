"""Domain events: facts a use case records in its transaction, handed to listeners after commit.

They drive cache invalidation (after commit) and the transactional outbox (core/shared/outbox.py:
written in the same transaction, relayed to streams and notifications after).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from core.shared.ids import ArticleId, CommentId, UserId

# Standard logging: the core names no logging library; the entrypoints route it (to loguru).
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Base of every event."""


@dataclass(frozen=True, slots=True)
class ArticlePublished(DomainEvent):
    slug: str
    article_id: ArticleId
    author_id: UserId
    title: str


@dataclass(frozen=True, slots=True)
class ArticleEdited(DomainEvent):
    old_slug: str
    new_slug: str
    article_id: ArticleId
    title: str


@dataclass(frozen=True, slots=True)
class ArticleDeleted(DomainEvent):
    slug: str
    article_id: ArticleId


@dataclass(frozen=True, slots=True)
class FavoritesChanged(DomainEvent):
    slug: str
    article_id: ArticleId
    actor_id: UserId
    favorited: bool  # False: the actor removed their favorite


@dataclass(frozen=True, slots=True)
class CommentsChanged(DomainEvent):
    slug: str
    article_id: ArticleId
    comment_id: CommentId
    actor_id: UserId
    deleted: bool = False  # False: the comment was added


@dataclass(frozen=True, slots=True)
class UserFollowed(DomainEvent):
    follower_id: UserId
    followee_id: UserId


@dataclass(frozen=True, slots=True)
class NotificationAdded(DomainEvent):
    """The relay wrote a notification (recorded in its transaction: live clients hear of it)."""

    recipient_id: UserId
    notification_id: int


@dataclass(frozen=True, slots=True)
class SessionsRevoked(DomainEvent):
    """Every token of the user stopped working (log out everywhere, or deactivated): open
    live connections of the user are closed."""

    user_id: UserId


@dataclass(frozen=True, slots=True)
class ProfileChanged(DomainEvent):
    old_username: str
    new_username: str


@dataclass(frozen=True, slots=True)
class AccountChanged(DomainEvent):
    """A user's row changed (role, active, token version, password, profile): what
    authenticating them reads. Per-process caches of callers forget the user."""

    user_id: UserId


class CommitListener(Protocol):
    """Told of a transaction's events after it committed (never after a rollback).

    A listener must not raise: the writes are already durable. Adapters log and count their
    own failures.
    """

    async def committed(self, events: Sequence[DomainEvent]) -> None: ...


async def notify(listeners: Sequence[CommitListener], events: Sequence[DomainEvent]) -> None:
    """Hand committed events to each listener; a failing listener is logged, not raised:
    the writes are durable already. (Unit-of-work adapters call this after commit.)"""
    if not events:
        return
    for listener in listeners:
        try:
            await listener.committed(tuple(events))
        except Exception:
            logger.exception("commit listener %s failed", type(listener).__name__)
