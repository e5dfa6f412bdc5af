"""The Clock port: where the current time comes from."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Gives the current time, timezone-aware in UTC, with at most microsecond precision."""

    def now(self) -> datetime: ...
