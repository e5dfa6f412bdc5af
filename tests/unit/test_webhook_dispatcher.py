"""WebhookDispatcher: what a relay batch costs when nobody subscribed to webhooks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from core.shared.outbox import OutboxMessage, StoredMessage
from core.webhooks.delivery import WebhookDispatcher
from tests.fakes.clock import FakeClock


class Webhooks:
    """tx.webhooks without subscriptions, recording the calls made."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def active(self) -> list[Any]:
        self.calls.append("active")
        return []

    async def last_notification_id(self) -> int:
        self.calls.append("last_notification_id")
        return 0


class Transaction:
    def __init__(self) -> None:
        self.webhooks = Webhooks()


class Notifications:
    def __init__(self) -> None:
        self.consumed: list[Sequence[StoredMessage]] = []

    async def consume(self, _tx: Any, messages: Sequence[StoredMessage]) -> None:
        self.consumed.append(messages)


async def test_without_subscriptions_a_batch_reads_them_and_nothing_else() -> None:
    tx, notifications = Transaction(), Notifications()
    message = OutboxMessage("article:1", "article.published", {"v": 1})
    batch = [StoredMessage(1, message, datetime.now(UTC))]

    await WebhookDispatcher(notifications, FakeClock()).consume(tx, batch)  # type: ignore[arg-type]

    assert tx.webhooks.calls == ["active"]
    assert notifications.consumed == [batch]  # the notifications are still written
