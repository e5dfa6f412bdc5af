"""The in-process webhook delivery queue (a server without `conduit worker`): its tasks run the
served handler, and the tasks waiting are bounded (tests/unit/test_serving_imports.py: taskiq
is not imported for it)."""

from __future__ import annotations

import asyncio

from adapters.memory.queue import InProcessDeliveryQueue


class Gate:
    """A handler that records each id and holds it until opened."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.done: list[int] = []
        self.open = asyncio.Event()

    async def __call__(self, delivery_id: int) -> None:
        self.started.append(delivery_id)
        await self.open.wait()
        if delivery_id < 0:
            raise ConnectionError("the receiver is down")
        self.done.append(delivery_id)


async def test_queued_ids_run_the_served_handler() -> None:
    queue, handler = InProcessDeliveryQueue(), Gate()
    queue.serve(handler)
    handler.open.set()
    await queue.enqueue([1, 2, 3])
    await queue.settle()
    assert sorted(handler.done) == [1, 2, 3]
    assert queue.waiting == 0


async def test_the_waiting_tasks_are_bounded_and_a_dropped_nudge_is_counted() -> None:
    queue, handler = InProcessDeliveryQueue(max_waiting=5), Gate()
    queue.serve(handler)
    await queue.enqueue(range(1, 9))
    await asyncio.sleep(0)  # the tasks start, and wait at the gate
    assert queue.waiting == 5
    assert queue.dropped == 3
    assert sorted(handler.started) == [1, 2, 3, 4, 5]
    handler.open.set()
    await queue.settle()
    assert queue.waiting == 0
    await queue.enqueue([9])  # room again
    await queue.settle()
    assert sorted(handler.done) == [1, 2, 3, 4, 5, 9]


async def test_a_failing_delivery_leaves_the_others_and_the_queue_working() -> None:
    queue, handler = InProcessDeliveryQueue(), Gate()
    queue.serve(handler)
    handler.open.set()
    await queue.enqueue([-1, 2])
    await queue.settle()
    assert handler.done == [2]
    await queue.enqueue([3])
    await queue.settle()
    assert handler.done == [2, 3]


async def test_stop_cancels_what_is_still_queued() -> None:
    queue, handler = InProcessDeliveryQueue(), Gate()
    queue.serve(handler)
    await queue.start()
    await queue.enqueue([1, 2])
    await asyncio.sleep(0)
    await queue.stop()
    assert queue.waiting == 0
    assert handler.done == []
