"""Use cases of the notifications context, and the outbox consumer that writes them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.notifications.ports import Added, NotificationQueries, NotificationsTransaction
from core.notifications.views import NotificationPage
from core.shared.clock import Clock
from core.shared.errors import InvalidInput
from core.shared.events import NotificationAdded
from core.shared.ids import ArticleId, CommentId, UserId
from core.shared.outbox import StoredMessage
from core.shared.pagination import DEFAULT_LIMIT, MAX_LIMIT
from core.shared.uow import UnitOfWork
from core.users.model import Actor

MAX_IDS = 100  # ids one mark-read call may name


class NotificationWriter:
    """OutboxConsumer: turns relayed events into notifications, in the relay's transaction
    (so each event notifies exactly once, and only once it is durable). Each notification
    written is itself an event (`notification.created` on its recipient's topic), which
    reaches the recipient's open WebSockets."""

    async def consume(
        self, tx: NotificationsTransaction, messages: Sequence[StoredMessage]
    ) -> None:
        notifications = tx.notifications
        # Articles published one after the other in the batch are written together (one
        # statement for the run of them); any other message ends the run, so notifications
        # keep the batch's order.
        published: list[tuple[ArticleId, datetime]] = []
        for stored in messages:
            payload, at = stored.message.payload, stored.created_at
            if stored.message.type == "article.published":
                published.append((ArticleId(uuid.UUID(str(payload["articleId"]))), at))
                continue
            await _add_articles(tx, published)
            added: Added = []
            match stored.message.type:
                case "user.followed":
                    added = await notifications.add_follow(
                        UserId(uuid.UUID(str(payload["followerId"]))),
                        UserId(uuid.UUID(str(payload["followeeId"]))),
                        at,
                    )
                case "article.favorited":
                    added = await notifications.add_favorite(
                        UserId(uuid.UUID(str(payload["actorId"]))),
                        ArticleId(uuid.UUID(str(payload["articleId"]))),
                        at,
                    )
                case "comment.created":
                    added = await notifications.add_comment(
                        CommentId(int(str(payload["commentId"]))), at
                    )
            for recipient_id, notification_id in added:
                tx.record(NotificationAdded(recipient_id, notification_id))
        await _add_articles(tx, published)


async def _add_articles(
    tx: NotificationsTransaction, published: list[tuple[ArticleId, datetime]]
) -> None:
    """The notifications of a run of published articles; empties the run."""
    if not published:
        return
    added = await tx.notifications.add_articles(published)
    published.clear()
    for recipient_id, notification_id in added:
        tx.record(NotificationAdded(recipient_id, notification_id))


class ListNotifications:
    """The caller's notifications, newest first.

    - `cursor` (from the previous page's `nextCursor`) continues after that page
    - `unread=true` lists only unread ones; `unreadCount` always counts every unread one
    - a notification whose article or comment was deleted is gone with it
    """

    def __init__(self, queries: NotificationQueries) -> None:
        self._queries = queries

    async def execute(
        self,
        actor: Actor,
        *,
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
        unread_only: bool = False,
    ) -> NotificationPage:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"must be between 1 and {MAX_LIMIT}", field="limit")
        before = None
        if cursor is not None:
            if not cursor.isdigit() or len(cursor) > 18:
                raise InvalidInput("is invalid", field="cursor")
            before = int(cursor)
        return await self._queries.list_notifications(
            actor.user_id, before=before, limit=limit, unread_only=unread_only
        )


@dataclass(frozen=True, slots=True)
class MarkReadInput:
    """Either `ids` or `all`."""

    ids: Sequence[int] | None = None
    all: bool = False


class MarkNotificationsRead:
    """Mark the caller's notifications read: those in `ids` (at most 100), or `all`.

    - ids of someone else's notifications, or unknown ones, are ignored
    - marking a read notification again keeps its first `readAt`
    """

    def __init__(self, uow: UnitOfWork[NotificationsTransaction], clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, actor: Actor, data: MarkReadInput) -> None:
        if data.all == (data.ids is not None):
            raise InvalidInput("give either ids or all", field="body")
        if data.ids is not None and len(data.ids) > MAX_IDS:
            raise InvalidInput(f"must list at most {MAX_IDS} ids", field="ids")
        async with self._uow.begin() as tx:
            await tx.notifications.mark_read(
                actor.user_id, None if data.all else data.ids, self._clock.now()
            )
            await tx.commit()
