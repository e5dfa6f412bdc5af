"""In-memory AttemptCounter and KnownAddresses: one process only (use Redis to share them
across workers)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

# Bound memory under a spray of addresses or emails: past this many entries, expired ones
# are swept at the next write.
SWEEP_ABOVE = 100_000


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

    async def record(self, windows: Sequence[tuple[str, int]]) -> list[int]:
        counts = []
        for key, window_s in windows:
            window = self._live(key)
            count, ends_at = window if window else (0, self._now() + window_s)
            self._windows[key] = (count + 1, ends_at)
            counts.append(count + 1)
        if len(self._windows) > SWEEP_ABOVE:
            self._sweep()
        return counts

    async def status(self, keys: Sequence[str]) -> list[tuple[int, int]]:
        return [self._status(key) for key in keys]

    def _status(self, key: str) -> tuple[int, int]:
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


class InMemoryKnownAddresses:
    """(account, address) -> when it stops being known; expired entries are dropped lazily."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._until: dict[tuple[str, str], float] = {}

    async def remember(self, account: str, address: str, ttl_s: int) -> None:
        self._until[account, address] = self._now() + ttl_s
        if len(self._until) > SWEEP_ABOVE:
            now = self._now()
            for key in [k for k, until in self._until.items() if until <= now]:
                del self._until[key]

    async def is_known(self, account: str, address: str) -> bool:
        until = self._until.get((account, address))
        if until is None:
            return False
        if until <= self._now():
            del self._until[account, address]
            return False
        return True
