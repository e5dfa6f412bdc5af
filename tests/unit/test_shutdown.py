"""The drain in front of uvicorn's SIGTERM handler: not ready at once, uvicorn told later."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Iterator
from types import FrameType

import pytest

from entrypoints.shutdown import Drain, drain_before_exit


class RecordingHandler:
    """Stands for uvicorn's handler: records the signals it was handed."""

    def __init__(self) -> None:
        self.signals: list[int] = []

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.signals.append(signum)


@pytest.fixture
def uvicorn_handler() -> Iterator[RecordingHandler]:
    handler = RecordingHandler()
    previous = signal.signal(signal.SIGTERM, handler)
    yield handler
    signal.signal(signal.SIGTERM, previous)


async def until(condition: Callable[[], object], *, within_s: float = 5.0) -> None:
    # Polled: what it waits for is set by a signal handler, where an asyncio.Event's set()
    # is not safe to call.
    async with asyncio.timeout(within_s):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_sigterm_begins_the_drain_and_hands_over_after_the_delay(
    uvicorn_handler: RecordingHandler,
) -> None:
    drain = Drain()
    drain_before_exit(drain, 0.2)

    os.kill(os.getpid(), signal.SIGTERM)
    await until(drain.is_draining)

    assert uvicorn_handler.signals == []  # still serving
    await until(lambda: uvicorn_handler.signals)
    await asyncio.sleep(0.3)
    assert uvicorn_handler.signals == [signal.SIGTERM]  # once


async def test_a_second_sigterm_ends_the_drain_at_once(
    uvicorn_handler: RecordingHandler,
) -> None:
    drain = Drain()
    drain_before_exit(drain, 60)

    os.kill(os.getpid(), signal.SIGTERM)
    await until(drain.is_draining)
    os.kill(os.getpid(), signal.SIGTERM)

    await until(lambda: uvicorn_handler.signals)
    assert uvicorn_handler.signals == [signal.SIGTERM]


async def test_no_delay_leaves_uvicorns_handler_alone(uvicorn_handler: RecordingHandler) -> None:
    drain_before_exit(Drain(), 0)

    assert signal.getsignal(signal.SIGTERM) is uvicorn_handler


def test_a_process_is_not_draining_until_told() -> None:
    drain = Drain()
    assert not drain.is_draining()
    drain.begin()
    assert drain.is_draining()


async def test_an_orphan_hands_over_at_once(uvicorn_handler: RecordingHandler) -> None:
    drain_before_exit(Drain(), 60, orphaned=lambda: True)

    os.kill(os.getpid(), signal.SIGTERM)

    await until(lambda: uvicorn_handler.signals)
    assert uvicorn_handler.signals == [signal.SIGTERM]
