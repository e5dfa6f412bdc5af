"""InProcessDeliveryQueue: the webhook delivery queue of a server that delivers its own webhooks.

Each enqueued id runs the served handler in a task of this process (the handler bounds how
many attempts run at once: WebhookWorker's slots). Without a separate worker there is no
broker to talk to, so taskiq (with aiohttp, which its package imports: about 8 MB of every
worker's memory) is not imported at all; `conduit worker` setups use adapters/taskiq.

The queue is a nudge (core/webhooks/ports.py): the deliveries table is the truth, and the
worker's sweep attempts what is due. So the tasks waiting here are bounded: past
`max_waiting`, a nudge is dropped (counted in `dropped`) and its delivery waits for the sweep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from loguru import logger

Handler = Callable[[int], Awaitable[object]]

# Tasks waiting or running at once; each holds a coroutine and its frame (about 2 KB).
MAX_WAITING = 10_000


class InProcessDeliveryQueue:
    def __init__(self, *, max_waiting: int = MAX_WAITING) -> None:
        self._max_waiting = max_waiting
        self._handler: Handler | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.dropped = 0

    def serve(self, handler: Handler) -> None:
        self._handler = handler

    @property
    def waiting(self) -> int:
        """Tasks queued or running now (at most `max_waiting`)."""
        return len(self._tasks)

    async def enqueue(self, delivery_ids: Sequence[int]) -> None:
        for delivery_id in delivery_ids:
            if len(self._tasks) >= self._max_waiting:
                self.dropped += 1  # the sweep attempts it when it is due
                continue
            task = asyncio.create_task(self._run(delivery_id), name="webhook-delivery")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, delivery_id: int) -> None:
        if self._handler is None:
            logger.error(
                "webhooks: delivery {} queued in a process that does not deliver", delivery_id
            )
            return
        try:
            await self._handler(delivery_id)
        except Exception:  # one attempt's failure stays its own (the sweep retries it)
            logger.exception("webhooks: delivery {} failed", delivery_id)

    async def settle(self) -> None:
        """Wait for the tasks queued now (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def start(self, *, worker: bool = False) -> None:
        """Nothing to connect: the tasks start as ids are queued."""

    async def stop(self) -> None:
        """Cancel what is still queued: each delivery's row stays due, for the next start."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def consume(self, stop: asyncio.Event, *, concurrency: int) -> None:
        raise RuntimeError("an in-process queue has nothing to consume: its tasks run as queued")
