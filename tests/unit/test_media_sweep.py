"""The server's periodic sweep of unused uploads (entrypoints/media_sweep.py)."""

from __future__ import annotations

import asyncio

from adapters.memory.media import InMemoryMediaStore
from adapters.memory.store import InMemoryUnitOfWork
from core.media.model import MediaPolicy
from core.media.use_cases import SweepUnusedUploads
from entrypoints.media_sweep import media_sweeping
from tests.fakes.clock import FakeClock


class CountingSweep(SweepUnusedUploads):
    def __init__(self, *, fail_first: bool = False) -> None:
        policy = MediaPolicy(enabled=True, base_url="https://x.example/media")
        super().__init__(InMemoryUnitOfWork(), InMemoryMediaStore(), policy, FakeClock())
        self.passes, self.fail_first = 0, fail_first
        self.ran = asyncio.Event()

    async def execute(self) -> int:
        self.passes += 1
        if self.passes >= 3:
            self.ran.set()
        if self.fail_first and self.passes == 1:
            raise RuntimeError("database down")
        return await super().execute()


async def test_the_sweep_runs_every_interval_and_survives_a_failure() -> None:
    sweep = CountingSweep(fail_first=True)

    async with media_sweeping(sweep, enabled=True, interval_s=0.01):
        async with asyncio.timeout(5):
            await sweep.ran.wait()

    passes = sweep.passes
    await asyncio.sleep(0.05)
    assert passes >= 3
    assert sweep.passes == passes  # stopped with the block


async def test_no_sweep_when_uploads_are_off_or_the_interval_is_zero() -> None:
    sweep = CountingSweep()

    async with media_sweeping(sweep, enabled=False, interval_s=0.01):
        await asyncio.sleep(0.05)
    async with media_sweeping(sweep, enabled=True, interval_s=0):
        await asyncio.sleep(0.05)

    assert sweep.passes == 0
