"""The SQL pool's queue serves callers first come, first served (adapters/sql/engine.py)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util.queue import Empty

from adapters.sql.engine import FairQueue


async def _waiting(queue: FairQueue, got: list[str], name: str) -> asyncio.Task[None]:
    async def take() -> None:
        got.append(f"{name}:{await greenlet_spawn(queue.get, True, 5)}")

    task = asyncio.create_task(take())
    await asyncio.sleep(0.01)  # queued
    return task


async def test_a_returned_connection_goes_to_the_longest_waiter() -> None:
    queue = FairQueue(maxsize=2)
    got: list[str] = []
    first = await _waiting(queue, got, "first")
    second = await _waiting(queue, got, "second")

    queue.put_nowait("a")
    queue.put_nowait("b")
    await asyncio.gather(first, second)

    assert got == ["first:a", "second:b"]


async def test_a_newcomer_does_not_take_a_connection_past_a_waiter() -> None:
    # asyncio.Queue (SQLAlchemy's stock pool queue) hands it to whoever asks first once the
    # waiter's wake-up is merely scheduled: a request could lose that race again and again.
    queue = FairQueue(maxsize=1)
    got: list[str] = []
    waiter = await _waiting(queue, got, "waiter")

    queue.put_nowait("conn")
    with pytest.raises(Empty):
        await greenlet_spawn(queue.get, False)
    await waiter

    assert got == ["waiter:conn"]


async def test_a_free_connection_is_taken_at_once_when_nobody_waits() -> None:
    queue = FairQueue(maxsize=1)
    queue.put_nowait("conn")

    assert await greenlet_spawn(queue.get, True, 5) == "conn"


async def test_a_waiter_that_gives_up_passes_its_connection_on() -> None:
    queue = FairQueue(maxsize=1)
    got: list[str] = []
    leaving = await _waiting(queue, got, "leaving")
    staying = await _waiting(queue, got, "staying")

    queue.put_nowait("conn")  # handed to `leaving`, which is cancelled before it resumes
    leaving.cancel()
    await asyncio.gather(leaving, return_exceptions=True)
    await staying

    assert got == ["staying:conn"]


async def test_a_waiter_times_out_with_empty() -> None:
    queue = FairQueue(maxsize=1)

    with pytest.raises(Empty):
        await greenlet_spawn(queue.get, True, 0.01)
    queue.put_nowait("conn")  # the timed-out waiter is not handed anything

    assert await greenlet_spawn(queue.get, False) == "conn"


async def test_peek_shows_what_a_get_now_would_take_and_leaves_it() -> None:
    fifo, lifo = FairQueue(maxsize=2), FairQueue(maxsize=2, use_lifo=True)
    assert fifo.peek() is None  # nothing free
    for queue in (fifo, lifo):
        queue.put_nowait("older")
        queue.put_nowait("newer")

    assert (fifo.peek(), lifo.peek()) == ("older", "newer")
    assert await greenlet_spawn(fifo.get, False) == "older"
    assert await greenlet_spawn(lifo.get, False) == "newer"


async def test_peek_shows_nothing_while_someone_waits() -> None:
    # As get() does: with a caller in line, nobody takes a free connection past it.
    queue = FairQueue(maxsize=1)
    queue.put_nowait("conn")
    queue._waiters.append(asyncio.get_running_loop().create_future())

    assert queue.peek() is None
    with pytest.raises(Empty):
        await greenlet_spawn(queue.get, False)
