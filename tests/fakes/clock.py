"""FakeClock: time that moves only when a test says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 1.0) -> None:
        self._now += timedelta(seconds=seconds)


class TickingClock(FakeClock):
    """Moves one millisecond on every read: distinct, ordered timestamps for each write."""

    def now(self) -> datetime:
        self.advance(0.001)
        return super().now()
