"""The sweep of unused uploads as a periodic task of the server process (issue 14).

Until a worker process takes background jobs, each server process sweeps on its own
schedule; sweeps of several processes may overlap, which is harmless: deleting a reference
or a blob twice is no error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from loguru import logger

from core.media.use_cases import SweepUnusedUploads


async def sweep_periodically(sweep: SweepUnusedUploads, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            removed = await sweep.execute()
        except Exception:  # the next pass tries again; a failure is logged, never fatal
            logger.opt(exception=True).warning("media sweep failed")
            continue
        if removed:
            logger.info("media sweep: removed {} unused uploads", removed)


@contextlib.asynccontextmanager
async def media_sweeping(
    sweep: SweepUnusedUploads, *, enabled: bool, interval_s: float
) -> AsyncIterator[None]:
    """Sweep every `interval_s` seconds while the block runs (first after one interval)."""
    if not enabled or interval_s <= 0:
        yield
        return
    task = asyncio.create_task(sweep_periodically(sweep, interval_s), name="media-sweep")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
