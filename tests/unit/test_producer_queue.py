"""The delivery queue of a server whose webhooks `conduit worker` processes deliver
(entrypoints.lifespan.ProducerQueue): the taskiq queue it wraps is built and started at the
first delivery queued, not at start (tests/unit/test_serving_imports.py: a started server does
not import taskiq)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence

import pytest

from core.webhooks.delivery import nudge
from entrypoints.lifespan import ProducerQueue, WebhookQueue, webhook_clients
from entrypoints.settings import Settings
from tests.apps import TEST_SECRET


class FakeQueue:
    """Records what the wrapper asks of it; its first `failures` starts raise."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[str] = []
        self.enqueued: list[int] = []
        self.handler: Callable[[int], Awaitable[object]] | None = None

    async def enqueue(self, delivery_ids: Sequence[int]) -> None:
        self.enqueued.extend(delivery_ids)

    def serve(self, handler: Callable[[int], Awaitable[object]]) -> None:
        self.handler = handler

    async def settle(self) -> None:
        self.calls.append("settle")

    async def start(self, *, worker: bool = False) -> None:
        self.calls.append(f"start worker={worker}")
        if self.failures:
            self.failures -= 1
            raise ConnectionError("Redis is down")

    async def stop(self) -> None:
        self.calls.append("stop")

    async def consume(self, stop: asyncio.Event, *, concurrency: int) -> None:
        raise AssertionError("not a worker")


class Builds:
    def __init__(self, failures: int = 0) -> None:
        self.built: list[FakeQueue] = []
        self.failures = failures

    def __call__(self) -> WebhookQueue:
        queue = FakeQueue(self.failures if not self.built else 0)
        self.built.append(queue)
        return queue


async def handler(delivery_id: int) -> None:
    pass


async def test_nothing_is_built_until_a_delivery_is_queued() -> None:
    builds = Builds()
    queue = ProducerQueue(builds)
    queue.serve(handler)
    await queue.start()
    await queue.settle()
    await queue.enqueue([])
    assert builds.built == []
    await queue.enqueue([1, 2])
    await queue.enqueue([3])
    [inner] = builds.built
    assert inner.calls == ["start worker=False"]
    assert inner.enqueued == [1, 2, 3]
    assert inner.handler is handler

    async def other(delivery_id: int) -> None:
        pass

    queue.serve(other)
    assert inner.handler is other
    await queue.settle()
    await queue.stop()
    assert inner.calls == ["start worker=False", "settle", "stop"]
    await queue.stop()  # stopped: nothing left to stop
    assert inner.calls.count("stop") == 1


async def test_concurrent_first_deliveries_build_one_queue() -> None:
    builds = Builds()
    queue = ProducerQueue(builds)
    await asyncio.gather(*(queue.enqueue([i]) for i in range(5)))
    [inner] = builds.built
    assert sorted(inner.enqueued) == [0, 1, 2, 3, 4]


async def test_a_queue_that_could_not_start_is_stopped_and_the_next_delivery_tries_again() -> None:
    builds = Builds(failures=1)
    queue = ProducerQueue(builds)
    with pytest.raises(ConnectionError):
        await queue.enqueue([1])
    await queue.stop()  # nothing started: nothing to stop
    await queue.enqueue([2])
    failed, started = builds.built
    assert failed.calls == ["start worker=False", "stop"]
    assert failed.enqueued == []
    assert started.enqueued == [2]


async def test_a_first_nudge_out_of_time_while_importing_leaves_the_start_to_the_next() -> None:
    release = threading.Event()
    builds = Builds()

    def slow_build() -> WebhookQueue:  # the import, in its thread, until released
        release.wait(10)
        return builds()

    queue = ProducerQueue(slow_build)
    await nudge(queue, [1], timeout_s=0.01)  # gives up (logged), never raises
    release.set()
    await nudge(queue, [2])
    # The first nudge's queue (its thread may still be finishing) is never started.
    [started] = [q for q in builds.built if q.calls]
    assert started.calls == ["start worker=False"]
    assert started.enqueued == [2]


async def test_it_never_consumes() -> None:
    queue = ProducerQueue(Builds())
    with pytest.raises(ValueError, match="worker=True"):
        await queue.start(worker=True)
    with pytest.raises(ValueError, match="worker=True"):
        await queue.consume(asyncio.Event(), concurrency=1)


async def test_only_a_server_handing_deliveries_to_workers_gets_it() -> None:
    settings = Settings(
        environment="test",
        secret_key=TEST_SECRET,
        database_url="sqlite+aiosqlite:///x.db",
        redis_url="redis://127.0.0.1:1/0",
        webhook_worker="external",
    )
    server, worker = webhook_clients(settings), webhook_clients(settings, worker=True)
    try:
        assert isinstance(server.queue, ProducerQueue)
        assert not isinstance(worker.queue, ProducerQueue)
    finally:
        await server.http.aclose()
        await worker.http.aclose()
