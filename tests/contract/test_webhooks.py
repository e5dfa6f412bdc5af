"""WebhookRepository contract on memory, SQLite and Postgres (core/webhooks/ports.py)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from core.users.model import User
from core.webhooks.model import (
    EXCERPT_MAX_BYTES,
    AttemptResult,
    DeliveryStatus,
    NewDelivery,
    Subscription,
    new_message_id,
)
from entrypoints.container import AppUnitOfWork
from tests.builders import WHEN, a_user
from tests.contract.seed import store

LEASE = timedelta(seconds=30)


def a_subscription(owner: User, **changes: object) -> Subscription:
    subscription = Subscription(
        id=uuid.uuid4(),
        owner_id=owner.id,
        url="https://hooks.example.com/in",
        events=("article.published",),
        description="",
        active=True,
        secret="v1:sealed",
        previous_secret=None,
        previous_secret_expires_at=None,
        consecutive_failures=0,
        disabled_reason=None,
        created_at=WHEN,
        updated_at=WHEN,
    )
    return replace(subscription, **changes)  # type: ignore[arg-type]


def a_delivery(subscription: Subscription, key: str = "outbox:1") -> NewDelivery:
    return NewDelivery(
        subscription.id, new_message_id(), key, "article.published", '{"type":"x"}', WHEN
    )


async def _saved(uow: AppUnitOfWork, *subscriptions: Subscription) -> None:
    async with uow.begin() as tx:
        for s in subscriptions:
            await tx.webhooks.add(s)
        await tx.commit()


async def _queued(uow: AppUnitOfWork, *deliveries: NewDelivery) -> list[int]:
    async with uow.begin() as tx:
        ids = await tx.webhooks.add_deliveries(deliveries)
        await tx.commit()
    return ids


async def test_a_subscription_reads_back_as_stored_and_updates(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    sub = a_subscription(jake, events=("*",), description="all")
    await _saved(uow, sub)
    async with uow.begin() as tx:
        assert await tx.webhooks.get(sub.id) == sub
        changed = replace(
            sub,
            url="https://other.example.com/",
            active=False,
            previous_secret="v1:old",
            previous_secret_expires_at=WHEN + timedelta(days=1),
            consecutive_failures=3,
            disabled_reason="gone",
            updated_at=WHEN + timedelta(hours=1),
        )
        await tx.webhooks.update(changed)
        await tx.commit()
    async with uow.begin(read_only=True) as tx:
        assert await tx.webhooks.get(sub.id) == changed
        assert await tx.webhooks.for_owner(jake.id) == [changed]
        assert await tx.webhooks.active() == []


async def test_owners_lists_are_their_own_and_admins_page_by_id(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    subs = [a_subscription(jake, created_at=WHEN + timedelta(seconds=i)) for i in range(3)]
    janes = a_subscription(jane)
    await _saved(uow, *subs, janes)
    async with uow.begin(read_only=True) as tx:
        assert [s.id for s in await tx.webhooks.for_owner(jake.id)] == [s.id for s in subs]
        by_id = sorted([*subs, janes], key=lambda s: s.id)
        first = await tx.webhooks.page(None, 2)
        rest = await tx.webhooks.page(first[-1].id, 10)
        assert [s.id for s in first + rest] == [s.id for s in by_id]


async def test_a_delivery_is_stored_once_per_subscription_and_event(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    sub = a_subscription(jake)
    await _saved(uow, sub)
    [first] = await _queued(uow, a_delivery(sub, "outbox:7"))
    assert await _queued(uow, a_delivery(sub, "outbox:7")) == []
    async with uow.begin(read_only=True) as tx:
        [delivery] = await tx.webhooks.deliveries(sub.id, None, 10)
        assert delivery.id == first
        assert delivery.status is DeliveryStatus.PENDING
        assert delivery.attempts == 0
        assert await tx.webhooks.pending_count() == 1


async def test_a_claim_counts_the_attempt_and_excludes_a_second_claim(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    sub = a_subscription(jake)
    await _saved(uow, sub)
    [i] = await _queued(uow, a_delivery(sub))
    now = WHEN + timedelta(seconds=1)
    async with uow.begin() as tx:
        assert await tx.webhooks.due(now, 10) == [i]
        claimed = await tx.webhooks.claim(i, now, now + LEASE)
        await tx.commit()
    assert claimed is not None
    delivery, subscription = claimed
    assert (delivery.attempts, delivery.last_attempt_at, subscription.id) == (1, now, sub.id)
    async with uow.begin() as tx:
        assert await tx.webhooks.claim(i, now, now + LEASE) is None  # leased
        assert await tx.webhooks.due(now, 10) == []
    later = now + LEASE + timedelta(seconds=1)  # the claimer died: the lease ran out
    async with uow.begin() as tx:
        assert await tx.webhooks.due(later, 10) == [i]
        again = await tx.webhooks.claim(i, later, later + LEASE)
        await tx.commit()
    assert again is not None
    assert again[0].message_id == delivery.message_id
    assert again[0].attempts == 2


async def test_nothing_is_claimed_before_it_is_due_or_for_an_inactive_webhook(
    uow: AppUnitOfWork,
) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    sub, off = a_subscription(jake), a_subscription(jake, active=False)
    await _saved(uow, sub, off)
    [i, j] = await _queued(uow, a_delivery(sub), a_delivery(off))
    async with uow.begin() as tx:
        assert await tx.webhooks.claim(i, WHEN - timedelta(seconds=1), WHEN + LEASE) is None
        assert await tx.webhooks.claim(j, WHEN, WHEN + LEASE) is None
        assert await tx.webhooks.due(WHEN, 10) == [i]


async def test_finish_records_the_result_and_lifts_the_lease(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    sub = a_subscription(jake)
    await _saved(uow, sub)
    [i] = await _queued(uow, a_delivery(sub))
    retry_at = WHEN + timedelta(minutes=5)
    async with uow.begin() as tx:
        assert await tx.webhooks.claim(i, WHEN, WHEN + LEASE) is not None
        answer = AttemptResult(500, 42, "é" * EXCERPT_MAX_BYTES, None)
        await tx.webhooks.finish(i, answer, DeliveryStatus.PENDING, retry_at)
        await tx.commit()
    async with uow.begin() as tx:
        delivery = await tx.webhooks.get_delivery(i)
        assert delivery is not None
        assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.PENDING, retry_at)
        assert (delivery.last_status_code, delivery.last_latency_ms) == (500, 42)
        assert delivery.last_response is not None
        assert len(delivery.last_response.encode()) <= EXCERPT_MAX_BYTES
        assert await tx.webhooks.due(retry_at - timedelta(seconds=1), 10) == []
        assert await tx.webhooks.due(retry_at, 10) == [i]
        await tx.webhooks.finish(i, AttemptResult(200, 5), DeliveryStatus.SUCCEEDED, None)
        await tx.commit()
    async with uow.begin() as tx:
        assert await tx.webhooks.due(retry_at, 10) == []
        assert await tx.webhooks.pending_count() == 0
        await tx.webhooks.redeliver(i, retry_at)
        await tx.commit()
    async with uow.begin(read_only=True) as tx:
        assert await tx.webhooks.due(retry_at, 10) == [i]
        again = await tx.webhooks.get_delivery(i)
        assert again is not None
        assert (again.status, again.attempts, again.event_key) == (
            DeliveryStatus.PENDING,
            0,
            "outbox:1",
        )


async def test_deliveries_page_newest_first(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    sub = a_subscription(jake)
    await _saved(uow, sub)
    ids = await _queued(uow, *(a_delivery(sub, f"outbox:{n}") for n in range(5)))
    async with uow.begin(read_only=True) as tx:
        first = await tx.webhooks.deliveries(sub.id, None, 3)
        rest = await tx.webhooks.deliveries(sub.id, first[-1].id, 3)
    assert [d.id for d in first + rest] == sorted(ids, reverse=True)


async def test_deleting_a_subscription_deletes_its_deliveries(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    sub = a_subscription(jake)
    await _saved(uow, sub)
    [i] = await _queued(uow, a_delivery(sub))
    async with uow.begin() as tx:
        await tx.webhooks.delete(sub.id)
        await tx.commit()
    async with uow.begin(read_only=True) as tx:
        assert await tx.webhooks.get(sub.id) is None
        assert await tx.webhooks.get_delivery(i) is None
        assert await tx.webhooks.pending_count() == 0


async def test_prune_deletes_old_finished_deliveries_only(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    sub = a_subscription(jake)
    await _saved(uow, sub)
    done, failed, pending = await _queued(uow, *(a_delivery(sub, f"outbox:{n}") for n in range(3)))
    async with uow.begin() as tx:
        await tx.webhooks.finish(done, AttemptResult(200, 1), DeliveryStatus.SUCCEEDED, None)
        await tx.webhooks.finish(failed, AttemptResult(500, 1), DeliveryStatus.FAILED, None)
        await tx.commit()
    async with uow.begin() as tx:
        assert await tx.webhooks.prune(WHEN) == 0  # created at WHEN: not before it
        assert await tx.webhooks.prune(WHEN + timedelta(seconds=1)) == 2
        await tx.commit()
    async with uow.begin(read_only=True) as tx:
        assert [d.id for d in await tx.webhooks.deliveries(sub.id, None, 10)] == [pending]


async def test_a_disabled_webhook_notifies_its_owner(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    async with uow.begin() as tx:
        mark = await tx.webhooks.last_notification_id()
        await tx.webhooks.notify_disabled(jake.id, WHEN)
        await tx.commit()
    async with uow.begin(read_only=True) as tx:
        [created] = await tx.webhooks.notifications_after(mark)
    assert (created.recipient_id, created.type, created.created_at) == (
        jake.id,
        "webhook_disabled",
        WHEN,
    )


async def test_every_attempt_is_logged_oldest_first_across_redeliveries(
    uow: AppUnitOfWork,
) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    sub = a_subscription(jake)
    await _saved(uow, sub)
    i, j, untried = await _queued(uow, *(a_delivery(sub, f"outbox:{n}") for n in range(3)))
    times = [WHEN + timedelta(minutes=m) for m in (1, 2, 3)]
    answers = [
        AttemptResult(503, 40, "é" * EXCERPT_MAX_BYTES),  # 2 KiB of text: cut to 1 KiB
        AttemptResult(None, 1_000, "", "timed out " * 50),  # 500 characters: cut to 200
        AttemptResult(200, 7, "ok"),
    ]
    for n, (at, answer) in enumerate(zip(times, answers, strict=True)):
        async with uow.begin() as tx:
            if n == 2:  # the third one after a redelivery, which sets `attempts` back to 0
                await tx.webhooks.redeliver(i, at)
            assert await tx.webhooks.claim(i, at, at + LEASE) is not None
            status = DeliveryStatus.SUCCEEDED if answer.succeeded else DeliveryStatus.PENDING
            await tx.webhooks.finish(i, answer, status, at + timedelta(seconds=30))
            await tx.commit()
    async with uow.begin() as tx:
        assert await tx.webhooks.claim(j, WHEN, WHEN + LEASE) is not None
        await tx.webhooks.finish(j, AttemptResult(500, 3, "no"), DeliveryStatus.PENDING, WHEN)
        await tx.commit()
    async with uow.begin(read_only=True) as tx:
        log = await tx.webhooks.attempts([i, j, untried], 20)
        newest = await tx.webhooks.attempts([i, j], 2)
        assert await tx.webhooks.attempts([], 20) == {}
    assert set(log) == {i, j}  # a delivery never attempted: absent
    first, second, third = log[i]
    assert [a.attempt for a in log[i]] == [1, 2, 3]
    assert [a.attempted_at for a in log[i]] == times
    assert [a.status_code for a in log[i]] == [503, None, 200]
    assert [a.latency_ms for a in log[i]] == [40, 1_000, 7]
    assert first.response == "é" * (EXCERPT_MAX_BYTES // 2)
    assert (first.error, second.error, third.error) == (None, ("timed out " * 50)[:200], None)
    assert (second.response, third.response) == ("", "ok")
    assert {a.delivery_id for a in log[i]} == {i}
    assert [(a.delivery_id, a.attempt, a.status_code) for a in log[j]] == [(j, 1, 500)]
    assert [a.attempt for a in newest[i]] == [2, 3]  # the newest two, still oldest first
    assert [a.attempt for a in newest[j]] == [1]


async def test_pruning_or_deleting_deliveries_deletes_their_attempts(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    sub = a_subscription(jake)
    await _saved(uow, sub)
    done, pending = await _queued(uow, *(a_delivery(sub, f"outbox:{n}") for n in range(2)))
    async with uow.begin() as tx:
        await tx.webhooks.finish(done, AttemptResult(200, 1), DeliveryStatus.SUCCEEDED, None)
        await tx.webhooks.finish(pending, AttemptResult(500, 1), DeliveryStatus.PENDING, WHEN)
        await tx.commit()
    async with uow.begin() as tx:
        log = await tx.webhooks.attempts([done, pending], 20)
        assert [a.attempted_at for a in log[done]] == [WHEN]  # never claimed: its creation
        assert await tx.webhooks.prune(WHEN + timedelta(seconds=1)) == 1
        await tx.commit()
    async with uow.begin() as tx:
        assert set(await tx.webhooks.attempts([done, pending], 20)) == {pending}
        await tx.webhooks.delete(sub.id)
        await tx.commit()
    async with uow.begin(read_only=True) as tx:
        assert await tx.webhooks.attempts([done, pending], 20) == {}
