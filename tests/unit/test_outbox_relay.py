"""RelayOutbox on the in-memory store: consumers, publish and mark-sent are one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from adapters.memory.store import InMemoryUnitOfWork
from adapters.memory.streams import InProcessPublisher
from core.notifications.use_cases import NotificationWriter
from core.shared.errors import ConcurrentChange
from core.shared.events import CommentsChanged, ProfileChanged, UserFollowed
from core.shared.ids import CommentId, new_article_id
from core.shared.outbox import (
    RACE_RETRIES,
    RelayNudge,
    RelayOutbox,
    RelayPolicy,
    StoredMessage,
    user_topic,
)
from tests.builders import a_user
from tests.contract.seed import store
from tests.fakes.clock import FakeClock


class BrokenPublisher(InProcessPublisher):
    """Redis down: every publish raises."""

    async def publish(self, messages: Sequence[StoredMessage]) -> None:
        raise ConnectionError("redis is down")


def _relay(uow: InMemoryUnitOfWork, publisher: InProcessPublisher) -> RelayOutbox[Any]:
    return RelayOutbox(
        uow, publisher, [NotificationWriter()], FakeClock(), RelayPolicy(), RelayNudge()
    )


async def test_the_relay_publishes_notifies_and_marks_sent_once() -> None:
    uow, publisher = InMemoryUnitOfWork(), InProcessPublisher()
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    async with uow.begin() as tx:
        tx.record(UserFollowed(jane.id, jake.id))
        await tx.commit()
    relay = _relay(uow, publisher)

    first, again = await relay.drain(), await relay.drain()

    # The follow, then the notification it became (for jake's live sockets).
    assert (first, again) == (2, 0)
    followed, notified = [message for _, _, message in await publisher.read(user_topic(jake.id))]
    [(notification_id, notification)] = uow.db.state.notifications.items()
    assert followed.type == "user.followed"
    assert notification.type == "follow"
    assert (notified.type, notified.payload) == (
        "notification.created",
        {"v": 1, "notificationId": notification_id},
    )


async def test_a_failed_publish_leaves_the_messages_unsent_and_notifies_nobody() -> None:
    uow = InMemoryUnitOfWork()
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    async with uow.begin() as tx:
        tx.record(UserFollowed(jane.id, jake.id))
        await tx.commit()

    with pytest.raises(ConnectionError):
        await _relay(uow, BrokenPublisher()).run_once()
    nothing_yet = dict(uow.db.state.notifications)
    publisher = InProcessPublisher()
    relayed = await _relay(uow, publisher).drain()

    assert nothing_yet == {}
    assert relayed == 2  # the follow and its notification
    assert len(uow.db.state.notifications) == 1
    assert len(await publisher.read(user_topic(jake.id))) == 2


async def test_the_nudge_wakes_only_for_events_that_reach_the_outbox() -> None:
    nudge = RelayNudge()
    comment = CommentsChanged("s", new_article_id(), CommentId(1), a_user().id)

    await nudge.committed([ProfileChanged("a", "b")])
    cache_only = nudge._event.is_set()
    await nudge.committed([comment])

    assert (cache_only, nudge._event.is_set()) == (False, True)


class RacingPublisher(InProcessPublisher):
    """A delete committed under the relay's batch `times` times (ConcurrentChange)."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.left = times

    async def publish(self, messages: Sequence[StoredMessage]) -> None:
        if self.left > 0:
            self.left -= 1
            raise ConcurrentChange("a notification's subject was deleted meanwhile")
        await super().publish(messages)


async def _one_follow(uow: InMemoryUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    async with uow.begin() as tx:
        tx.record(UserFollowed(jane.id, jake.id))
        await tx.commit()


async def test_a_batch_that_lost_a_race_to_a_delete_runs_again_at_once() -> None:
    uow = InMemoryUnitOfWork()
    await _one_follow(uow)

    relayed = await _relay(uow, RacingPublisher(times=RACE_RETRIES)).drain()

    assert relayed == 2  # the follow, then its notification
    assert len(uow.db.state.notifications) == 1


async def test_a_batch_that_keeps_losing_races_gives_up_for_this_poll() -> None:
    uow = InMemoryUnitOfWork()
    await _one_follow(uow)

    with pytest.raises(ConcurrentChange):
        await _relay(uow, RacingPublisher(times=RACE_RETRIES + 1)).drain()
    assert uow.db.state.notifications == {}


class CountingUnitOfWork(InMemoryUnitOfWork):
    """Counts the transactions begun (each one a BEGIN ... COMMIT or ROLLBACK on SQL)."""

    begun = 0

    def begin(self, *, read_only: bool = False) -> Any:
        self.begun += 1
        return super().begin(read_only=read_only)


async def test_a_wake_up_with_a_short_batch_runs_one_transaction() -> None:
    uow = CountingUnitOfWork()
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    async with uow.begin() as tx:
        tx.record(UserFollowed(jane.id, jake.id))
        await tx.commit()
    relay, before = _relay(uow, InProcessPublisher()), uow.begun

    relayed = await relay.drain(until_empty=False)

    # The follow's batch only: no second claim that finds nothing. The notification it wrote
    # is in the outbox, for the next wake-up (its commit nudged the relay).
    assert (relayed, uow.begun - before) == (1, 1)
    assert await relay.drain() == 1
