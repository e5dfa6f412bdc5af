"""Ports of the webhooks context."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.notifications.ports import NotificationsTransaction
from core.shared.ids import UserId
from core.webhooks.model import (
    Attempt,
    AttemptResult,
    Delivery,
    DeliveryStatus,
    NewDelivery,
    Subscription,
)


@dataclass(frozen=True, slots=True)
class CreatedNotification:
    id: int
    recipient_id: UserId
    type: str
    created_at: datetime


class WebhookRepository(Protocol):
    """Subscriptions and their deliveries, in a transaction
    (contract suite: tests/contract/test_webhooks.py).

    - `add`/`update`/`delete`/`get` store a subscription as given (sealed secrets included);
      deleting one deletes its deliveries
    - `for_owner` lists an owner's subscriptions oldest first; `page` every one by id after
      `after`, at most `limit`
    - `add_deliveries` stores new deliveries, at most one per (subscription, event_key): a
      repeat is skipped; it returns the ids of the deliveries it stored
    - `claim` starts an attempt of a pending delivery that is due (`next_attempt_at` <= now),
      not leased by another attempt (`lease_until` past) and whose subscription is active: it
      counts the attempt (`attempts` + 1, `last_attempt_at` = now), leases the delivery until
      `lease_until` and returns it so. None when any of that does not hold, so of two
      concurrent claims at most one gets it
    - `due` answers ids of deliveries that `claim` would take now, oldest first
    - `finish` records an attempt's result and the delivery's new status and next attempt,
      and lifts the lease; it also logs the attempt (an Attempt numbered one past the
      delivery's last logged one, at the delivery's `last_attempt_at` (its `created_at` if it
      was never claimed), error cut to 200 characters, response to 1 KiB)
    - `attempts` answers the logged attempts of the given deliveries, per delivery id, oldest
      first, at most the `newest` latest of each (a delivery without any: absent); deleting a
      delivery (prune, a deleted subscription) deletes its attempts
    - `deliveries` lists a subscription's deliveries newest first (by id) before `before`;
      `redeliver` makes a delivery pending and due at `now` again, its attempts back to 0
      (same message id)
    - `last_notification_id` and `notifications_after` read the notifications table (for
      notification.created); `notify_disabled` tells an owner their webhook was disabled
    - `pending_count` counts pending deliveries (the queue's depth)
    - `prune` deletes finished (succeeded or failed) deliveries created before `before`,
      never a pending one; returns how many
    """

    async def add(self, subscription: Subscription) -> None: ...
    async def update(self, subscription: Subscription) -> None: ...
    async def delete(self, subscription_id: uuid.UUID) -> None: ...
    async def get(self, subscription_id: uuid.UUID) -> Subscription | None: ...
    async def for_owner(self, owner_id: UserId) -> list[Subscription]: ...
    async def page(self, after: uuid.UUID | None, limit: int) -> list[Subscription]: ...
    async def active(self) -> list[Subscription]: ...
    async def add_deliveries(self, deliveries: Sequence[NewDelivery]) -> list[int]: ...
    async def claim(
        self, delivery_id: int, now: datetime, lease_until: datetime
    ) -> tuple[Delivery, Subscription] | None: ...
    async def due(self, now: datetime, limit: int) -> list[int]: ...
    async def finish(
        self,
        delivery_id: int,
        result: AttemptResult,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> None: ...
    async def deliveries(
        self, subscription_id: uuid.UUID, before: int | None, limit: int
    ) -> list[Delivery]: ...
    async def attempts(
        self, delivery_ids: Sequence[int], newest: int
    ) -> dict[int, list[Attempt]]: ...
    async def get_delivery(self, delivery_id: int) -> Delivery | None: ...
    async def redeliver(self, delivery_id: int, now: datetime) -> None: ...
    async def last_notification_id(self) -> int: ...
    async def notifications_after(self, after: int) -> list[CreatedNotification]: ...
    async def notify_disabled(self, owner_id: UserId, at: datetime) -> None: ...
    async def pending_count(self) -> int: ...
    async def prune(self, before: datetime) -> int: ...


class WebhooksTransaction(NotificationsTransaction, Protocol):
    @property
    def webhooks(self) -> WebhookRepository: ...


class SecretBox(Protocol):
    """Seals signing secrets for storage (authenticated encryption): `open(seal(s)) == s`;
    a sealed value altered, or sealed under another key, raises ValueError."""

    def seal(self, secret: str) -> str: ...
    def open(self, sealed: str) -> str: ...


class HostResolver(Protocol):
    """The IP addresses a host name resolves to (an IP literal: itself); [] when none."""

    async def resolve(self, host: str, port: int) -> list[str]: ...


class WebhookSender(Protocol):
    """POSTs one delivery (the only way Conduit calls a user-supplied URL). Never raises for
    what the receiver does: a refused address, a timeout, a reset or an oversized answer are
    an AttemptResult with `error` set; redirects are not followed (their status is the
    result)."""

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> AttemptResult: ...


class DeliveryQueue(Protocol):
    """Tells the worker that deliveries are due now (a nudge: the deliveries table is the
    truth, so a lost nudge only delays a delivery to the worker's next sweep)."""

    async def enqueue(self, delivery_ids: Sequence[int]) -> None: ...


class AttemptObserver(Protocol):
    """Hears each attempt's outcome (metrics)."""

    def attempted(self, outcome: str, latency_s: float) -> None: ...
