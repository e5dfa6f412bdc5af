"""Delivery: the relay's consumer that queues deliveries, one attempt, and the worker's sweep.

The deliveries table is the truth and the queue a nudge. The relay writes one delivery per
matching subscription in its own transaction (so each event is queued exactly once, and only
once it is committed), then nudges the queue. An attempt claims its delivery with a lease, so
two workers never send it at once; a worker killed mid-attempt leaves the lease to expire,
and the next sweep (of any worker, this one restarted included) sends it again with the same
webhook-id. Retries wait in the table (`next_attempt_at`) and the sweep picks them up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from core.notifications.ports import NotificationsTransaction
from core.shared.clock import Clock
from core.shared.errors import Unavailable
from core.shared.events import DomainEvent
from core.shared.outbox import JsonValue, OutboxConsumer, StoredMessage
from core.shared.uow import UnitOfWork
from core.webhooks.model import (
    PUBLIC_EVENTS,
    AttemptResult,
    DeliveryStatus,
    NewDelivery,
    RetryPolicy,
    Subscription,
    new_message_id,
)
from core.webhooks.ports import (
    AttemptObserver,
    DeliveryQueue,
    SecretBox,
    WebhookSender,
    WebhooksTransaction,
)
from core.webhooks.signing import event_body, signed_headers

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveriesQueued(DomainEvent):
    """Recorded by the dispatcher: after the relay's commit, the queue is nudged with these."""

    delivery_ids: tuple[int, ...]


def _concerns(subscription: Subscription, message: StoredMessage) -> bool:
    """Public events reach every subscription that wants them; a follow only its two users."""
    type_ = message.message.type
    if not subscription.wants(type_):
        return False
    if type_ in PUBLIC_EVENTS:
        return True
    payload = message.message.payload
    owner = str(subscription.owner_id)
    return type_ == "user.followed" and owner in (payload["followerId"], payload["followeeId"])


class WebhookDispatcher:
    """OutboxConsumer wrapping the notification writer: after it has run (in the relay's
    transaction), one delivery per (event, subscription that wants it), notifications created
    by this batch included (`notification.created`, to their recipient)."""

    def __init__(
        self, notifications: OutboxConsumer[NotificationsTransaction], clock: Clock
    ) -> None:
        self._notifications, self._clock = notifications, clock

    async def consume(self, tx: WebhooksTransaction, messages: Sequence[StoredMessage]) -> None:
        repo = tx.webhooks
        # Subscriptions first: without any (the common case) the batch costs no statement
        # more than the notifications' own. The relay's transaction holds them either way.
        subscriptions = await repo.active()
        if not subscriptions:
            await self._notifications.consume(tx, messages)
            return
        mark = await repo.last_notification_id()
        await self._notifications.consume(tx, messages)
        deliveries: list[NewDelivery] = []
        now = self._clock.now()  # each delivery's first attempt is due at once
        for stored in messages:
            body = event_body(stored.message.type, stored.created_at, stored.message.payload)
            for subscription in subscriptions:
                if _concerns(subscription, stored):
                    deliveries.append(
                        NewDelivery(
                            subscription.id,
                            new_message_id(),
                            f"outbox:{stored.id}",
                            stored.message.type,
                            body,
                            now,
                        )
                    )
        wanting = [s for s in subscriptions if s.wants("notification.created")]
        if wanting:
            for created in await repo.notifications_after(mark):
                data: dict[str, JsonValue] = {
                    "notificationId": created.id,
                    "type": created.type,
                    "recipientId": str(created.recipient_id),
                }
                body = event_body("notification.created", created.created_at, data)
                for subscription in wanting:
                    if subscription.owner_id == created.recipient_id:
                        deliveries.append(
                            NewDelivery(
                                subscription.id,
                                new_message_id(),
                                f"notification:{created.id}",
                                "notification.created",
                                body,
                                now,
                            )
                        )
        if deliveries:
            ids = await repo.add_deliveries(deliveries)
            tx.record(DeliveriesQueued(tuple(ids)))


# A nudge waits this long for the queue at most: a hung Redis must not hold up the relay
# (or a request), and the sweep finds what a lost nudge did not hand over.
NUDGE_TIMEOUT_S = 1.0


async def nudge(
    queue: DeliveryQueue, ids: Sequence[int], timeout_s: float = NUDGE_TIMEOUT_S
) -> None:
    """Hand deliveries to the queue, or give up quietly (logged): never raises."""
    if not ids:
        return
    try:
        async with asyncio.timeout(timeout_s):
            await queue.enqueue(ids)
    except Exception as exc:  # TimeoutError included
        logger.warning("webhooks: could not queue %d deliveries (%r)", len(ids), exc)


class QueueNudge:
    """CommitListener: hands the deliveries the relay committed to the queue."""

    def __init__(self, queue: DeliveryQueue, timeout_s: float = NUDGE_TIMEOUT_S) -> None:
        self._queue, self._timeout_s = queue, timeout_s

    async def committed(self, events: Sequence[DomainEvent]) -> None:
        ids = [i for e in events if isinstance(e, DeliveriesQueued) for i in e.delivery_ids]
        await nudge(self._queue, ids, self._timeout_s)


@dataclass(frozen=True, slots=True)
class WorkerPolicy:
    # An attempt's lease: longer than the sender's total timeout, so only a dead worker's
    # delivery is taken over.
    lease: timedelta = timedelta(seconds=60)
    sweep_interval_s: float = 1.0
    sweep_batch: int = 50
    concurrency: int = 10
    # Finished deliveries stay in the log this long (then pruned, every PRUNE_EVERY sweeps).
    retention: timedelta = timedelta(days=30)


PRUNE_EVERY = 600


class DeliverWebhook:
    """One attempt of one delivery: claim it (with a lease), sign, POST, record the outcome.

    - 2xx: succeeded; the subscription's failure count starts over
    - 410 Gone: failed, and the subscription is disabled
    - anything else (another status, a timeout, a refused address, no answer): retried after
      the next wait of the schedule (with jitter); past the schedule the delivery has failed,
      and after `max_consecutive_failures` failed deliveries in a row the subscription is
      disabled and its owner notified
    """

    def __init__(
        self,
        uow: UnitOfWork[WebhooksTransaction],
        clock: Clock,
        box: SecretBox,
        sender: WebhookSender,
        retries: RetryPolicy,
        policy: WorkerPolicy,
        observer: AttemptObserver,
    ) -> None:
        self._uow, self._clock, self._box, self._sender = uow, clock, box, sender
        self._retries, self._policy, self._observer = retries, policy, observer

    async def execute(self, delivery_id: int) -> str | None:
        """The attempt's outcome, or None when the delivery was not there to claim."""
        now = self._clock.now()
        async with self._uow.begin() as tx:
            claimed = await tx.webhooks.claim(delivery_id, now, now + self._policy.lease)
            if claimed is None:
                return None
            await tx.commit()
        delivery, subscription = claimed
        try:
            keys = subscription.signing_keys(self._box.open, now)
        except ValueError:
            result = AttemptResult(None, 0, error="the signing secret cannot be decrypted")
        else:
            timestamp = int(self._clock.now().timestamp())
            body = delivery.payload.encode()
            headers = signed_headers(keys, delivery.message_id, timestamp, body)
            started = time.perf_counter()
            result = await self._sender.post(subscription.url, headers, body)
            result = replace(result, latency_ms=round((time.perf_counter() - started) * 1000))
        outcome = await self._record(delivery.id, delivery.attempts, subscription, result)
        logger.info(
            "webhook attempt: subscription=%s event=%s type=%s delivery=%s webhook-id=%s "
            "attempt=%d outcome=%s status=%s latency_ms=%d%s",
            subscription.id,
            delivery.event_key,
            delivery.event_type,
            delivery.id,
            delivery.message_id,
            delivery.attempts,
            outcome,
            result.status_code,
            result.latency_ms,
            f" error={result.error}" if result.error else "",
        )
        self._observer.attempted(outcome, result.latency_ms / 1000)
        return outcome

    async def _record(
        self, delivery_id: int, attempt: int, subscription: Subscription, result: AttemptResult
    ) -> str:
        now = self._clock.now()
        async with self._uow.begin() as tx:
            repo = tx.webhooks
            current = await repo.get(subscription.id) or subscription
            if result.succeeded:
                outcome, status, retry_at = "succeeded", DeliveryStatus.SUCCEEDED, None
                if current.consecutive_failures:
                    await repo.update(replace(current, consecutive_failures=0))
            elif result.gone:
                outcome, status, retry_at = "gone", DeliveryStatus.FAILED, None
                await repo.update(
                    replace(current, active=False, disabled_reason="the receiver answered 410 Gone")
                )
            elif (delay := self._retries.delay_after(attempt)) is not None:
                outcome, status, retry_at = "retrying", DeliveryStatus.PENDING, now + delay
            else:
                outcome, status, retry_at = "failed", DeliveryStatus.FAILED, None
                failures = current.consecutive_failures + 1
                changed = replace(current, consecutive_failures=failures)
                if failures >= self._retries.max_consecutive_failures and current.active:
                    outcome = "disabled"
                    reason = f"{failures} deliveries in a row failed"
                    changed = replace(changed, active=False, disabled_reason=reason)
                    await repo.notify_disabled(current.owner_id, now)
                await repo.update(changed)
            await repo.finish(delivery_id, result, status, retry_at)
            await tx.commit()
        return outcome


class WebhookWorker:
    """Delivers what the queue hands over and, every sweep interval, what is due in the table
    (retries, and deliveries whose worker died), at most `concurrency` at a time."""

    def __init__(
        self,
        uow: UnitOfWork[WebhooksTransaction],
        clock: Clock,
        deliver: DeliverWebhook,
        policy: WorkerPolicy,
        depth: Callable[[int], None] = lambda _pending: None,
    ) -> None:
        self._uow, self._clock, self._deliver, self._policy = uow, clock, deliver, policy
        self._depth = depth
        self._slots = asyncio.Semaphore(policy.concurrency)

    async def deliver(self, delivery_id: int) -> str | None:
        async with self._slots:
            return await self._deliver.execute(delivery_id)

    async def sweep(self) -> int:
        """Attempt every delivery due now (one batch); returns how many were attempted."""
        async with self._uow.begin(read_only=True) as tx:
            due = await tx.webhooks.due(self._clock.now(), self._policy.sweep_batch)
            self._depth(await tx.webhooks.pending_count())
        outcomes = await asyncio.gather(*(self.deliver(i) for i in due), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                logger.warning("webhooks: an attempt failed: %r", outcome)
        return sum(1 for o in outcomes if isinstance(o, str))

    async def prune(self) -> int:
        """Delete finished deliveries older than the retention; returns how many."""
        async with self._uow.begin() as tx:
            pruned = await tx.webhooks.prune(self._clock.now() - self._policy.retention)
            await tx.commit()
        return pruned

    async def run(self, stop: asyncio.Event) -> None:
        failing, sweeps = False, 0
        while not stop.is_set():
            try:
                await self.sweep()
                sweeps += 1
                if sweeps % PRUNE_EVERY == 1:
                    await self.prune()
                failing = False
            except Unavailable as exc:
                if not failing:
                    logger.warning("webhooks: %s; sweeping again every interval", exc)
                failing = True
            except Exception:
                if not failing:
                    logger.exception("webhooks: the sweep failed; sweeping again every interval")
                failing = True
            try:
                async with asyncio.timeout(self._policy.sweep_interval_s):
                    await stop.wait()
            except TimeoutError:
                pass
