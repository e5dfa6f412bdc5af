"""In-memory Cache: one process only; same generation/stamp semantics as the Redis adapter."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from core.shared.fifo import remember


class InMemoryCache:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic, max_entries: int = 10_000):
        self._now = monotonic
        self._max = max_entries
        self._generations: dict[str, int] = {}
        self._values: dict[str, tuple[str, bytes, float]] = {}  # key -> (stamp, value, expiry)

    def _stamp(self, deps: Sequence[str]) -> str:
        return ".".join(str(self._generations.get(dep, 0)) for dep in deps)

    async def read(self, key: str, deps: Sequence[str]) -> tuple[bytes | None, str]:
        stamp = self._stamp(deps)
        entry = self._values.get(key)
        if entry is None or entry[0] != stamp or entry[2] <= self._now():
            return None, stamp
        return entry[1], stamp

    async def write(
        self, key: str, deps: Sequence[str], stamp: str, value: bytes, ttl_s: int
    ) -> None:
        if stamp != self._stamp(deps):
            return  # a dependency changed since the reader took its stamp
        remember(self._values, key, (stamp, value, self._now() + ttl_s), self._max)

    async def invalidate(self, deps: Sequence[str]) -> None:
        for dep in deps:
            self._generations[dep] = self._generations.get(dep, 0) + 1
