"""The outbox relay as a background task of the server process (started by the app lifespan)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from loguru import logger

from core.shared.outbox import RelayOutbox

# On shutdown the relay finishes the batch in hand (one transaction) for at most this long.
STOP_TIMEOUT_S = 5.0


@contextlib.asynccontextmanager
async def relay_running(relay: RelayOutbox[Any], *, enabled: bool) -> AsyncIterator[None]:
    """Run `relay` in the background while the block runs; several processes may each run
    one (claims skip each other's rows). Off: committed rows wait for a process that runs it."""
    if not enabled:
        logger.info("outbox relay: off in this process (OUTBOX_RELAY_ENABLED=false)")
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop), name="outbox-relay")
    try:
        yield
    finally:
        stop.set()
        relay.wake()
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await asyncio.shield(task)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
