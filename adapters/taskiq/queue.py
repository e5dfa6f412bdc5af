"""TaskiqDeliveryQueue: one taskiq task, `deliver(delivery_id)`, on a Redis stream.

With Redis the broker is taskiq-redis's RedisStreamBroker: a consumer group, messages acked
after the task ran, and an unacked message (its worker died) claimed again by another
consumer once idle for `reclaim_after_s`. The deliveries table stays the truth either way:
the task only says "this one is due now" (core/webhooks/delivery.py). A server that delivers
its own webhooks uses adapters/memory/queue.py instead, and never imports taskiq.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from taskiq import AsyncBroker
from taskiq.acks import AcknowledgeType
from taskiq.receiver import Receiver
from taskiq_redis import RedisStreamBroker

from core.webhooks.ports import DeliveryQueue

TASK_NAME = "conduit.webhooks.deliver"
Handler = Callable[[int], Awaitable[object]]


def redis_broker(
    url: str, *, prefix: str, reclaim_after_s: float, consumers: int
) -> RedisStreamBroker:
    return RedisStreamBroker(
        url,
        queue_name=f"{prefix}webhooks:deliveries",
        consumer_group_name="conduit-webhook-workers",
        consumer_id="0",  # a new group reads what was queued before any worker started
        maxlen=100_000,
        idle_timeout=int(reclaim_after_s * 1000),
        max_connection_pool_size=consumers + 4,
        xread_block=1_000,
        # A hung Redis costs a bounded wait (the blocking read is shorter than this).
        socket_timeout=5.0,
        socket_connect_timeout=2.0,
    )


class TaskiqDeliveryQueue(DeliveryQueue):
    """The queue's producer side, and (in a worker) its consumer side: the task runs the
    handler bound with `serve`."""

    def __init__(self, broker: AsyncBroker) -> None:
        self.broker = broker
        self._handler: Handler | None = None

        async def deliver(delivery_id: int) -> None:  # a function: taskiq renames it
            await self._run(delivery_id)

        self._task = broker.register_task(deliver, task_name=TASK_NAME)

    def serve(self, handler: Handler) -> None:
        self._handler = handler

    async def _run(self, delivery_id: int) -> None:
        if self._handler is None:
            raise RuntimeError("this process does not deliver webhooks")
        await self._handler(delivery_id)

    async def enqueue(self, delivery_ids: Sequence[int]) -> None:
        for delivery_id in delivery_ids:
            await self._task.kiq(delivery_id)

    async def settle(self) -> None:
        """Nothing runs here to wait for: the queue's tasks run in the worker processes."""

    async def start(self, *, worker: bool = False) -> None:
        self.broker.is_worker_process = worker
        await self.broker.startup()

    async def stop(self) -> None:
        await self.broker.shutdown()

    async def consume(self, stop: asyncio.Event, *, concurrency: int) -> None:
        """Run the queue's tasks until `stop` (a worker process; acked once each has run)."""
        receiver = Receiver(
            self.broker,
            run_startup=False,
            max_async_tasks=concurrency,
            ack_type=AcknowledgeType.WHEN_EXECUTED,
            propagate_exceptions=False,
            wait_tasks_timeout=5.0,
        )
        await receiver.listen(stop)
