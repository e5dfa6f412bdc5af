"""Webhook subscriptions and deliveries in SQL (Postgres and SQLite, one code path)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    Text,
    and_,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql.engine import Statements, WriteConnection
from adapters.sql.tables import (
    notifications,
    users,
    webhook_attempts,
    webhook_deliveries,
    webhooks,
)
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

w, d, a = webhooks, webhook_deliveries, webhook_attempts
# The relay asks for them on every batch: built once.
_ACTIVE = select(w).where(w.c.active.is_(True)).order_by(w.c.id)


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        owner_id=UserId(row.owner_id),
        url=row.url,
        events=tuple(row.events.split()),
        description=row.description,
        active=bool(row.active),
        secret=row.secret,
        previous_secret=row.previous_secret,
        previous_secret_expires_at=row.previous_secret_expires_at,
        consecutive_failures=int(row.consecutive_failures),
        disabled_reason=row.disabled_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _values(s: Subscription) -> dict[str, Any]:
    return {
        "url": s.url,
        "events": " ".join(s.events),
        "description": s.description,
        "active": s.active,
        "secret": s.secret,
        "previous_secret": s.previous_secret,
        "previous_secret_expires_at": s.previous_secret_expires_at,
        "consecutive_failures": s.consecutive_failures,
        "disabled_reason": s.disabled_reason,
        "updated_at": s.updated_at,
    }


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=int(row.id),
        subscription_id=row.subscription_id,
        message_id=row.message_id,
        event_key=row.event_key,
        event_type=row.event_type,
        payload=row.payload,
        status=DeliveryStatus(row.status),
        attempts=int(row.attempts),
        next_attempt_at=row.next_attempt_at,
        last_attempt_at=row.last_attempt_at,
        last_status_code=row.last_status_code,
        last_latency_ms=row.last_latency_ms,
        last_error=row.last_error,
        last_response=row.last_response,
        created_at=row.created_at,
    )


def _claimable(now: datetime) -> Any:
    active = exists().where(w.c.id == d.c.subscription_id, w.c.active.is_(True))
    return and_(
        d.c.status == DeliveryStatus.PENDING.value,
        d.c.next_attempt_at <= now,
        or_(d.c.lease_until.is_(None), d.c.lease_until <= now),
        active,
    )


class SqlWebhookRepository:
    def __init__(self, connection: Statements) -> None:
        self._connection = connection

    async def add(self, subscription: Subscription) -> None:
        values = _values(subscription)
        values |= {
            "id": subscription.id,
            "owner_id": subscription.owner_id,
            "created_at": subscription.created_at,
        }
        await self._connection.execute(w.insert().values(values))

    async def update(self, subscription: Subscription) -> None:
        await self._connection.execute(
            update(w).where(w.c.id == subscription.id).values(_values(subscription))
        )

    async def delete(self, subscription_id: uuid.UUID) -> None:
        # Deliveries first: SQLite enforces ON DELETE CASCADE only with foreign keys on.
        await self._connection.execute(delete(d).where(d.c.subscription_id == subscription_id))
        await self._connection.execute(delete(w).where(w.c.id == subscription_id))

    async def get(self, subscription_id: uuid.UUID) -> Subscription | None:
        result = await self._connection.execute(select(w).where(w.c.id == subscription_id))
        row = result.first()
        return None if row is None else _subscription(row)

    async def for_owner(self, owner_id: UserId) -> list[Subscription]:
        query = select(w).where(w.c.owner_id == owner_id).order_by(w.c.created_at, w.c.id)
        return [_subscription(r) for r in await self._connection.execute(query)]

    async def page(self, after: uuid.UUID | None, limit: int) -> list[Subscription]:
        query = select(w).order_by(w.c.id).limit(limit)
        if after is not None:
            query = query.where(w.c.id > after)
        return [_subscription(r) for r in await self._connection.execute(query)]

    async def active(self) -> list[Subscription]:
        connection = self._connection
        if isinstance(connection, WriteConnection):  # the relay asks on every batch
            return [_subscription(SimpleNamespace(**r)) for r in await connection.run(_ACTIVE, {})]
        return [_subscription(r) for r in await connection.execute(_ACTIVE)]

    async def add_deliveries(self, deliveries: Sequence[NewDelivery]) -> list[int]:
        if not deliveries:
            return []
        connection = self._connection
        insert_for = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        # A repeat of (subscription, event) is skipped: a relay batch run again after a race,
        # or a notification another relay's batch already queued.
        statement = insert_for(d).on_conflict_do_nothing(
            index_elements=[d.c.subscription_id, d.c.event_key]
        )
        rows = [
            {
                "subscription_id": n.subscription_id,
                "message_id": n.message_id,
                "event_key": n.event_key,
                "event_type": n.event_type,
                "payload": n.payload,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": n.created_at,
                "created_at": n.created_at,
            }
            for n in deliveries
        ]
        await connection.execute(statement, rows)
        stored = select(d.c.id).where(d.c.message_id.in_([n.message_id for n in deliveries]))
        return sorted(int(i) for i in (await connection.execute(stored)).scalars())

    async def claim(
        self, delivery_id: int, now: datetime, lease_until: datetime
    ) -> tuple[Delivery, Subscription] | None:
        # One conditional UPDATE: of two concurrent claims, the second finds the lease set.
        result = await self._connection.execute(
            update(d)
            .where(d.c.id == delivery_id, _claimable(now))
            .values(lease_until=lease_until, attempts=d.c.attempts + 1, last_attempt_at=now)
        )
        if result.rowcount != 1:
            return None
        row = (await self._connection.execute(select(d).where(d.c.id == delivery_id))).one()
        delivery = _delivery(row)
        subscription = await self.get(delivery.subscription_id)
        return None if subscription is None else (delivery, subscription)

    async def due(self, now: datetime, limit: int) -> list[int]:
        query = select(d.c.id).where(_claimable(now)).order_by(d.c.next_attempt_at, d.c.id)
        return [int(i) for i in (await self._connection.execute(query.limit(limit))).scalars()]

    async def finish(
        self,
        delivery_id: int,
        result: AttemptResult,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> None:
        error = None if result.error is None else result.error[:ERROR_MAX]
        response = excerpt_of(result.excerpt.encode())
        await self._connection.execute(
            update(d)
            .where(d.c.id == delivery_id)
            .values(
                status=status.value,
                next_attempt_at=next_attempt_at,
                lease_until=None,
                last_status_code=result.status_code,
                last_latency_ms=result.latency_ms,
                last_error=error,
                last_response=response,
            )
        )
        await self._log_attempt(delivery_id, result, error, response)

    async def _log_attempt(
        self, delivery_id: int, result: AttemptResult, error: str | None, response: str
    ) -> None:
        # One INSERT ... SELECT: the number (one past the last logged) and the time (the
        # claim's) come from the database. Only the lease holder finishes, so two numbers
        # clash only if a lease ran out mid-attempt: that attempt goes unlogged rather than
        # failing the transaction that records the delivery's outcome.
        number = (
            select(func.coalesce(func.max(a.c.attempt), 0) + 1)
            .where(a.c.delivery_id == d.c.id)
            .scalar_subquery()
        )
        source = select(
            d.c.id,
            number,
            func.coalesce(d.c.last_attempt_at, d.c.created_at),
            literal(result.status_code, Integer()),
            literal(result.latency_ms, Integer()),
            literal(error, String(ERROR_MAX)),
            literal(response, Text()),
        ).where(d.c.id == delivery_id)
        columns = [
            "delivery_id",
            "attempt",
            "attempted_at",
            "status_code",
            "latency_ms",
            "error",
            "response",
        ]
        connection = self._connection
        insert_for = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        statement = insert_for(a).from_select(columns, source).on_conflict_do_nothing()
        await connection.execute(statement)

    async def deliveries(
        self, subscription_id: uuid.UUID, before: int | None, limit: int
    ) -> list[Delivery]:
        query = select(d).where(d.c.subscription_id == subscription_id)
        if before is not None:
            query = query.where(d.c.id < before)
        query = query.order_by(d.c.id.desc()).limit(limit)
        return [_delivery(r) for r in await self._connection.execute(query)]

    async def attempts(self, delivery_ids: Sequence[int], newest: int) -> dict[int, list[Attempt]]:
        if not delivery_ids:
            return {}
        # One query for a whole page: the newest `newest` of each delivery by a window.
        rank = (
            func.row_number()
            .over(partition_by=a.c.delivery_id, order_by=a.c.attempt.desc())
            .label("rank")
        )
        ranked = select(a, rank).where(a.c.delivery_id.in_(list(delivery_ids))).subquery()
        query = (
            select(ranked)
            .where(ranked.c.rank <= newest)
            .order_by(ranked.c.delivery_id, ranked.c.attempt)
        )
        found: dict[int, list[Attempt]] = {}
        for r in await self._connection.execute(query):
            found.setdefault(int(r.delivery_id), []).append(
                Attempt(
                    delivery_id=int(r.delivery_id),
                    attempt=int(r.attempt),
                    attempted_at=r.attempted_at,
                    status_code=r.status_code,
                    latency_ms=int(r.latency_ms),
                    error=r.error,
                    response=r.response,
                )
            )
        return found

    async def get_delivery(self, delivery_id: int) -> Delivery | None:
        row = (await self._connection.execute(select(d).where(d.c.id == delivery_id))).first()
        return None if row is None else _delivery(row)

    async def redeliver(self, delivery_id: int, now: datetime) -> None:
        await self._connection.execute(
            update(d)
            .where(d.c.id == delivery_id)
            .values(
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                lease_until=None,
            )
        )

    async def last_notification_id(self) -> int:
        result = await self._connection.execute(select(func.max(notifications.c.id)))
        return int(result.scalar() or 0)

    async def notifications_after(self, after: int) -> list[CreatedNotification]:
        n = notifications
        query = select(n.c.id, n.c.recipient_id, n.c.type, n.c.created_at).where(n.c.id > after)
        rows = await self._connection.execute(query.order_by(n.c.id))
        return [
            CreatedNotification(int(r.id), UserId(r.recipient_id), r.type, r.created_at)
            for r in rows
        ]

    async def notify_disabled(self, owner_id: UserId, at: datetime) -> None:
        source = select(
            users.c.id,
            literal("webhook_disabled"),
            users.c.id,
            literal(None),
            literal(None),
            literal(at, notifications.c.created_at.type),
        ).where(users.c.id == owner_id)
        columns = ["recipient_id", "type", "actor_id", "article_id", "comment_id", "created_at"]
        await self._connection.execute(notifications.insert().from_select(columns, source))

    async def prune(self, before: datetime) -> int:
        result = await self._connection.execute(
            delete(d).where(d.c.status != DeliveryStatus.PENDING.value, d.c.created_at < before)
        )
        return int(result.rowcount)

    async def pending_count(self) -> int:
        query = select(func.count()).where(d.c.status == DeliveryStatus.PENDING.value)
        return int((await self._connection.execute(query)).scalar_one())
