"""In-memory AttemptCounter: one process only (use Redis to share counts across workers)."""

from __future__ import annotations

import time
from collections.abc import Callable


class InMemoryAttemptCounter:
    """Fixed windows starting at the first failure; expired windows are dropped lazily."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._windows: dict[str, tuple[int, float]] = {}  # key -> (count, ends_at)

    def _live(self, key: str) -> tuple[int, float] | None:
        window = self._windows.get(key)
        if window is not None and window[1] <= self._now():
            del self._windows[key]
            return None
        return window

    async def record(self, key: str, window_s: int) -> int:
        window = self._live(key)
        count, ends_at = window if window else (0, self._now() + window_s)
        self._windows[key] = (count + 1, ends_at)
        if len(self._windows) > 100_000:  # bound memory under a spray of addresses
            self._sweep()
        return count + 1

    async def status(self, key: str) -> tuple[int, int]:
        window = self._live(key)
        if window is None:
            return 0, 0
        return window[0], max(1, int(window[1] - self._now() + 0.999))

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)

    def _sweep(self) -> None:
        now = self._now()
        for key in [k for k, (_, ends) in self._windows.items() if ends <= now]:
            del self._windows[key]
