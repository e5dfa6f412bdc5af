"""A background task for the life of a block: the relay, the caller cache's signal, the
webhook sweep. Each runs until its `stop` event is set, and is given a few seconds to finish
what it holds before it is cancelled."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

STOP_TIMEOUT_S = 5.0


@contextlib.asynccontextmanager
async def running(
    run: Callable[[asyncio.Event], Coroutine[Any, Any, None]],
    *,
    name: str,
    wake: Callable[[], None] | None = None,
    stop_timeout_s: float = STOP_TIMEOUT_S,
) -> AsyncIterator[None]:
    """Run `run(stop)` as a task while the block runs; on the way out set `stop`, call `wake`
    (a loop asleep on something else), wait up to `stop_timeout_s`, then cancel."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(stop), name=name)
    try:
        yield
    finally:
        stop.set()
        if wake is not None:
            wake()
        try:
            async with asyncio.timeout(stop_timeout_s):
                await asyncio.shield(task)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
