"""In-process EventPublisher: capped per-topic streams in this process (no Redis).

Entry ids follow the Redis adapter's (`<outbox id>-1`) and a repeat is skipped alike. Other
processes see nothing of it: without Redis, live updates reach only this process's clients.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping, Sequence

from core.shared.outbox import OutboxMessage, StoredMessage, StreamEntries, wait_for_entries


class InProcessPublisher:
    def __init__(self, *, maxlen: int = 1000) -> None:
        self._maxlen = maxlen
        self._streams: dict[str, deque[tuple[int, OutboxMessage]]] = {}
        self._published = asyncio.Event()  # replaced after each publish: waiters wake

    async def publish(self, messages: Sequence[StoredMessage]) -> None:
        for stored in messages:
            topic = stored.message.topic
            stream = self._streams.setdefault(topic, deque(maxlen=self._maxlen))
            if stream and stream[-1][0] >= stored.id:
                continue  # published already
            stream.append((stored.id, stored.message))
        published, self._published = self._published, asyncio.Event()
        published.set()

    async def read(
        self, topic: str, after: str | None = None, limit: int = 100
    ) -> list[tuple[str, int, OutboxMessage]]:
        last = -1 if after is None else int(after.split("-", 1)[0])
        stream = self._streams.get(topic, ())
        kept = [(i, m) for i, m in stream if i > last][:limit]
        return [(f"{i}-1", i, m) for i, m in kept]

    async def last_id(self, topic: str) -> str | None:
        stream = self._streams.get(topic)
        return f"{stream[-1][0]}-1" if stream else None

    async def wait(
        self, topic: str, after: str | None, timeout_s: float, limit: int = 100
    ) -> list[tuple[str, int, OutboxMessage]]:
        return await wait_for_entries(
            lambda: self.read(topic, after, limit), lambda: self._published, timeout_s
        )

    async def read_many(self, after: Mapping[str, str | None], limit: int = 100) -> StreamEntries:
        entries: StreamEntries = []
        for topic, position in after.items():
            entries += await self.read(topic, position, limit)
        return entries

    async def wait_many(
        self, after: Mapping[str, str | None], timeout_s: float, limit: int = 100
    ) -> StreamEntries:
        return await wait_for_entries(
            lambda: self.read_many(after, limit), lambda: self._published, timeout_s
        )
