"""The queue nudge after a relay's commit: bounded, and never an error for the relay."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from core.webhooks.delivery import DeliveriesQueued, QueueNudge


class HungQueue:
    def __init__(self) -> None:
        self.asked: list[int] = []

    async def enqueue(self, delivery_ids: Sequence[int]) -> None:
        self.asked += delivery_ids
        await asyncio.sleep(3_600)


class BrokenQueue:
    async def enqueue(self, delivery_ids: Sequence[int]) -> None:
        raise ConnectionError("redis is down")


async def test_a_hung_queue_costs_the_nudge_its_timeout_only() -> None:
    queue = HungQueue()
    async with asyncio.timeout(5):  # a bounded wait, not a timing assertion
        await QueueNudge(queue, timeout_s=0.05).committed([DeliveriesQueued((1, 2))])
    assert queue.asked == [1, 2]


async def test_a_failing_queue_does_not_fail_the_commit() -> None:
    await QueueNudge(BrokenQueue()).committed([DeliveriesQueued((3,))])


async def test_nothing_is_queued_without_deliveries() -> None:
    queue = HungQueue()
    await QueueNudge(queue).committed([])
    assert queue.asked == []
