"""The outbox relay as a background task of the server process (started by the app lifespan)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from loguru import logger

from core.shared.outbox import RelayOutbox
from entrypoints.background import running


@contextlib.asynccontextmanager
async def relay_running(relay: RelayOutbox[Any], *, enabled: bool) -> AsyncIterator[None]:
    """Run `relay` in the background while the block runs; several processes may each run
    one (claims skip each other's rows). Off: committed rows wait for a process that runs it.
    On shutdown it finishes the batch in hand (one transaction) for at most 5 s."""
    if not enabled:
        logger.info("outbox relay: off in this process (OUTBOX_RELAY_ENABLED=false)")
        yield
        return
    async with running(relay.run, name="outbox-relay", wake=relay.wake):
        yield
