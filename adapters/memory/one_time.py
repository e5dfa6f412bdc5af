"""InMemoryOneTimeStore: the OneTimeStore of memory:// and the tests (one process only)."""

from __future__ import annotations

from datetime import datetime, timedelta


class InMemoryOneTimeStore:
    """Values with their expiry in a dict. `take` pops without awaiting in between, so it is
    atomic on the event loop. Only for memory://, where nothing is shared between processes
    anyway; with a database or Redis configured the container picks those."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, datetime]] = {}

    async def put(self, key: str, value: str, *, ttl: timedelta, now: datetime) -> None:
        self._values = {k: v for k, v in self._values.items() if v[1] > now}
        self._values[key] = (value, now + ttl)

    async def take(self, key: str, *, now: datetime) -> str | None:
        found = self._values.pop(key, None)
        if found is None or found[1] <= now:
            return None
        return found[0]
