"""Webhook subscriptions and deliveries in memory, over a transaction's MemoryState."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from adapters.memory.outbox import NotificationRow
from core.shared.ids import UserId
from core.webhooks.model import (
    ERROR_MAX,
    Attempt,
    AttemptResult,
    Delivery,
    DeliveryStatus,
    NewDelivery,
    Subscription,
    excerpt_of,
)
from core.webhooks.ports import CreatedNotification

if TYPE_CHECKING:
    from adapters.memory.store import MemoryState


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    delivery: Delivery
    event_key: str
    lease_until: datetime | None = None


class InMemoryWebhookRepository:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    async def add(self, subscription: Subscription) -> None:
        self._s.webhooks[subscription.id] = subscription

    async def update(self, subscription: Subscription) -> None:
        current = self._s.webhooks.get(subscription.id)
        if current is not None:  # like SQL: owner and creation time are not written
            self._s.webhooks[subscription.id] = replace(
                subscription, owner_id=current.owner_id, created_at=current.created_at
            )

    async def delete(self, subscription_id: uuid.UUID) -> None:
        self._s.webhooks.pop(subscription_id, None)
        for i in [
            i
            for i, r in self._s.deliveries.items()
            if r.delivery.subscription_id == subscription_id
        ]:
            del self._s.deliveries[i]  # mirrors ON DELETE CASCADE
            self._s.attempts.pop(i, None)

    async def get(self, subscription_id: uuid.UUID) -> Subscription | None:
        return self._s.webhooks.get(subscription_id)

    async def for_owner(self, owner_id: UserId) -> list[Subscription]:
        mine = [s for s in self._s.webhooks.values() if s.owner_id == owner_id]
        return sorted(mine, key=lambda s: (s.created_at, s.id))

    async def page(self, after: uuid.UUID | None, limit: int) -> list[Subscription]:
        ordered = sorted(self._s.webhooks.values(), key=lambda s: s.id)
        return [s for s in ordered if after is None or s.id > after][:limit]

    async def active(self) -> list[Subscription]:
        return sorted((s for s in self._s.webhooks.values() if s.active), key=lambda s: s.id)

    async def add_deliveries(self, deliveries: Sequence[NewDelivery]) -> list[int]:
        taken = {(r.delivery.subscription_id, r.event_key) for r in self._s.deliveries.values()}
        ids: list[int] = []
        for new in deliveries:
            key = (new.subscription_id, new.event_key)
            if key in taken or new.subscription_id not in self._s.webhooks:
                continue
            taken.add(key)
            self._s.last_delivery_id += 1
            i = self._s.last_delivery_id
            delivery = Delivery(
                id=i,
                subscription_id=new.subscription_id,
                message_id=new.message_id,
                event_key=new.event_key,
                event_type=new.event_type,
                payload=new.payload,
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=new.created_at,
                last_attempt_at=None,
                last_status_code=None,
                last_latency_ms=None,
                last_error=None,
                last_response=None,
                created_at=new.created_at,
            )
            self._s.deliveries[i] = DeliveryRow(delivery, new.event_key)
            ids.append(i)
        return ids

    def _claimable(self, row: DeliveryRow, now: datetime) -> bool:
        d = row.delivery
        subscription = self._s.webhooks.get(d.subscription_id)
        return (
            d.status is DeliveryStatus.PENDING
            and d.next_attempt_at is not None
            and d.next_attempt_at <= now
            and (row.lease_until is None or row.lease_until <= now)
            and subscription is not None
            and subscription.active
        )

    async def claim(
        self, delivery_id: int, now: datetime, lease_until: datetime
    ) -> tuple[Delivery, Subscription] | None:
        row = self._s.deliveries.get(delivery_id)
        if row is None or not self._claimable(row, now):
            return None
        d = row.delivery
        claimed = replace(d, attempts=d.attempts + 1, last_attempt_at=now)
        self._s.deliveries[delivery_id] = DeliveryRow(claimed, row.event_key, lease_until)
        return claimed, self._s.webhooks[d.subscription_id]

    async def due(self, now: datetime, limit: int) -> list[int]:
        return sorted(i for i, r in self._s.deliveries.items() if self._claimable(r, now))[:limit]

    async def finish(
        self,
        delivery_id: int,
        result: AttemptResult,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> None:
        row = self._s.deliveries.get(delivery_id)
        if row is None:
            return
        d = row.delivery
        error = None if result.error is None else result.error[:ERROR_MAX]
        response = excerpt_of(result.excerpt.encode())
        finished = replace(
            d,
            status=status,
            next_attempt_at=next_attempt_at,
            last_status_code=result.status_code,
            last_latency_ms=result.latency_ms,
            last_error=error,
            last_response=response,
        )
        self._s.deliveries[delivery_id] = DeliveryRow(finished, row.event_key, None)
        logged = self._s.attempts.get(delivery_id, ())
        attempt = Attempt(
            delivery_id=delivery_id,
            attempt=logged[-1].attempt + 1 if logged else 1,
            attempted_at=d.last_attempt_at or d.created_at,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=error,
            response=response,
        )
        self._s.attempts[delivery_id] = (*logged, attempt)  # a new tuple: copy() snapshots

    async def deliveries(
        self, subscription_id: uuid.UUID, before: int | None, limit: int
    ) -> list[Delivery]:
        ids = sorted(
            (
                i
                for i, r in self._s.deliveries.items()
                if r.delivery.subscription_id == subscription_id and (before is None or i < before)
            ),
            reverse=True,
        )
        return [self._s.deliveries[i].delivery for i in ids[:limit]]

    async def attempts(self, delivery_ids: Sequence[int], newest: int) -> dict[int, list[Attempt]]:
        return {
            i: list(self._s.attempts[i][-newest:])
            for i in delivery_ids
            if self._s.attempts.get(i) and newest > 0
        }

    async def get_delivery(self, delivery_id: int) -> Delivery | None:
        row = self._s.deliveries.get(delivery_id)
        return None if row is None else row.delivery

    async def redeliver(self, delivery_id: int, now: datetime) -> None:
        row = self._s.deliveries.get(delivery_id)
        if row is not None:
            delivery = replace(
                row.delivery, status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now
            )
            self._s.deliveries[delivery_id] = DeliveryRow(delivery, row.event_key, None)

    async def last_notification_id(self) -> int:
        return self._s.last_notification_id

    async def notifications_after(self, after: int) -> list[CreatedNotification]:
        return [
            CreatedNotification(i, row.recipient_id, row.type, row.created_at)
            for i, row in sorted(self._s.notifications.items())
            if i > after
        ]

    async def notify_disabled(self, owner_id: UserId, at: datetime) -> None:
        if owner_id not in self._s.users:
            return
        self._s.last_notification_id += 1
        i = self._s.last_notification_id
        self._s.notifications[i] = NotificationRow(
            i, owner_id, "webhook_disabled", owner_id, None, None, at
        )

    async def prune(self, before: datetime) -> int:
        old = [
            i
            for i, r in self._s.deliveries.items()
            if r.delivery.status is not DeliveryStatus.PENDING and r.delivery.created_at < before
        ]
        for i in old:
            del self._s.deliveries[i]
            self._s.attempts.pop(i, None)  # mirrors ON DELETE CASCADE
        return len(old)

    async def pending_count(self) -> int:
        return sum(
            1 for r in self._s.deliveries.values() if r.delivery.status is DeliveryStatus.PENDING
        )
