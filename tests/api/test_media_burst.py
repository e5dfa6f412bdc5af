"""A burst of 20 concurrent uploads while reads go on: the reads keep being answered.

Decoding runs in a child process (the default), so the event loop stays free for the reads.
No timing is asserted (this machine is shared); the read latencies are printed, with and
without the burst (`pytest -s tests/api/test_media_burst.py` shows them).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path

import httpx2
import pytest
from PIL import Image

from tests.api.helpers import Account, publish, register
from tests.media import files
from tests.media.apps import MediaApp, media_app

BURST = 20
READS = "/api/articles"


def photos() -> list[bytes]:
    """20 distinct camera-sized JPEGs (noise does not compress: ~0.5 MB each)."""
    return [
        files.encoded(Image.effect_noise((1200, 900), 40 + i).convert("RGB"), "JPEG", quality=85)
        for i in range(BURST)
    ]


async def read_latencies(client: httpx2.AsyncClient, until: asyncio.Event | int) -> list[float]:
    took: list[float] = []
    while (len(took) < until) if isinstance(until, int) else not until.is_set():
        started = time.perf_counter()
        response = await client.get(READS)
        took.append(time.perf_counter() - started)
        assert response.status_code == 200
        await asyncio.sleep(0.005)
    return took


def summary(took: list[float]) -> str:
    ms = sorted(t * 1000 for t in took)
    p95 = ms[int(len(ms) * 0.95) - 1] if len(ms) >= 20 else ms[-1]
    return f"n={len(ms)} p50={statistics.median(ms):.1f}ms p95={p95:.1f}ms max={ms[-1]:.1f}ms"


async def burst(app: MediaApp, account: Account, images: list[bytes]) -> tuple[list[int], str]:
    done = asyncio.Event()

    async def one(data: bytes) -> int:
        sent = {"file": ("photo.jpg", data, "image/jpeg")}
        response = await app.client.post("/api/uploads", files=sent, headers=account.auth)
        return response.status_code

    async def uploads() -> list[int]:
        try:
            return list(await asyncio.gather(*(one(data) for data in images)))
        finally:
            done.set()

    statuses, during = await asyncio.gather(uploads(), read_latencies(app.client, done))
    return statuses, summary(during)


# The thread pool (MEDIA_WORKERS in threads) for comparison: CONDUIT_BURST_THREADS=1.
MODES = [True, False] if os.environ.get("CONDUIT_BURST_THREADS") else [True]


@pytest.mark.parametrize("processes", MODES, ids=["process-pool", "thread-pool"][: len(MODES)])
async def test_reads_are_answered_during_a_burst_of_uploads(
    tmp_path: Path, processes: bool
) -> None:
    images = photos()
    async with media_app(
        tmp_path, processes=processes, upload_max_pixels=4_000_000, media_max_waiting=32
    ) as app:
        account = await register(app.client, "jake")
        for n in range(5):
            await publish(app.client, account, f"Article {n}")
        warm = files.png((64, 64))
        await app.client.post(  # spawns the worker before measuring
            "/api/uploads", files={"file": ("w.png", warm, "image/png")}, headers=account.auth
        )
        before = summary(await read_latencies(app.client, 40))
        started = time.perf_counter()
        statuses, during = await burst(app, account, images)
        elapsed = time.perf_counter() - started

    mode = "process pool" if processes else "thread pool"
    print(f"\n[{mode}] reads alone: {before}")
    print(f"[{mode}] reads during {BURST} uploads ({elapsed:.1f}s): {during}")
    assert statuses == [201] * BURST
