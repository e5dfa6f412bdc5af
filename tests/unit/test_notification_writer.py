"""NotificationWriter: a run of published articles in a relay batch is written together."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from core.notifications.use_cases import NotificationWriter
from core.shared.events import DomainEvent, NotificationAdded
from core.shared.outbox import JsonValue, OutboxMessage, StoredMessage

AT = datetime(2026, 12, 2, tzinfo=UTC)
FOLLOWER = uuid.UUID(int=7)


class Notifications:
    """Records the calls; each article notifies FOLLOWER with the next id."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.next_id = 0

    def _added(self, count: int) -> list[tuple[Any, int]]:
        self.next_id += count
        return [(FOLLOWER, i) for i in range(self.next_id - count + 1, self.next_id + 1)]

    async def add_articles(self, published: list[tuple[Any, datetime]]) -> list[tuple[Any, int]]:
        self.calls.append(("articles", [article for article, _ in published]))
        return self._added(len(published))

    async def add_follow(self, follower: Any, followee: Any, at: datetime) -> list[Any]:
        self.calls.append(("follow", follower))
        return self._added(1)


class Transaction:
    def __init__(self) -> None:
        self.notifications = Notifications()
        self.events: list[DomainEvent] = []

    def record(self, event: DomainEvent) -> None:
        self.events.append(event)


def _published(n: int) -> StoredMessage:
    payload: dict[str, JsonValue] = {"v": 1, "articleId": str(uuid.UUID(int=n))}
    return StoredMessage(n, OutboxMessage(f"article:{n}", "article.published", payload), AT)


def _followed(n: int) -> StoredMessage:
    payload: dict[str, JsonValue] = {
        "v": 1,
        "followerId": str(uuid.UUID(int=n)),
        "followeeId": str(FOLLOWER),
    }
    return StoredMessage(n, OutboxMessage("user:x", "user.followed", payload), AT)


async def test_consecutive_publications_are_one_call_in_the_batch_order() -> None:
    tx = Transaction()
    batch = [_published(1), _published(2), _followed(3), _published(4), _published(5)]

    await NotificationWriter().consume(tx, batch)  # type: ignore[arg-type]

    assert tx.notifications.calls == [
        ("articles", [uuid.UUID(int=1), uuid.UUID(int=2)]),
        ("follow", uuid.UUID(int=3)),
        ("articles", [uuid.UUID(int=4), uuid.UUID(int=5)]),
    ]
    assert tx.events == [NotificationAdded(FOLLOWER, i) for i in range(1, 6)]  # type: ignore[arg-type]
