"""An app with uploads on: the filesystem store under a test's folder, decoding in threads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from fastapi import FastAPI

from adapters.filesystem.media import FileSystemMediaStore
from adapters.imaging.pillow import PillowImageProcessor
from core.media.ports import MediaStore
from entrypoints.container import build_container
from entrypoints.lifespan import Infrastructure, MediaClients
from entrypoints.settings import Settings
from entrypoints.storage.memory import MemoryStorage
from tests.apps import TEST_SECRET, app_serving
from tests.fakes.clock import TickingClock
from tests.fakes.passwords import FakePasswordHasher

PUBLIC = "https://conduit.example"
MAX_PIXELS = 1_000_000  # low, so that a real bomb of a few KB stays cheap to make


@dataclass
class MediaApp:
    app: FastAPI
    client: httpx2.AsyncClient
    root: Path  # the filesystem store's folder
    incoming: Path  # MEDIA_TMP_DIR: must be empty after every request
    infra: Infrastructure
    clock: TickingClock

    def stored(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file())


def media_settings(incoming: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "secret_key": TEST_SECRET,
        "database_url": "memory://",
        "rate_limit_enabled": False,
        "public_base_url": PUBLIC,
        "media_tmp_dir": str(incoming),
        "upload_max_pixels": MAX_PIXELS,
        "upload_quota": 5,
    }
    return Settings(**(values | overrides))


@asynccontextmanager
async def media_app(
    folder: Path,
    *,
    processes: bool = False,
    workers: int = 1,
    store: MediaStore | None = None,
    **overrides: Any,
) -> AsyncIterator[MediaApp]:
    root, incoming = folder / "media", folder / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    settings = media_settings(incoming, **overrides)
    processor = PillowImageProcessor(
        max_workers=workers,
        max_waiting=settings.media_max_waiting,
        processes=processes,
        max_pixels=settings.upload_max_pixels,
    )
    media = MediaClients(store or FileSystemMediaStore(root), processor, [processor.close])
    infra = Infrastructure(hasher=FakePasswordHasher(), storage=MemoryStorage(), media=media)
    clock = TickingClock()
    app = app_serving(settings, build_container(settings, infra, clock=clock))
    transport = httpx2.ASGITransport(app=app)
    try:
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            yield MediaApp(app, client, root, incoming, infra, clock)
    finally:
        await media.close()
