"""In-process EventPublisher: capped per-topic streams in this process (no Redis).

Entry ids follow the Redis adapter's (`<outbox id>-1`) and a repeat is skipped alike. Other
processes see nothing of it: without Redis, live updates reach only this process's clients.

Memory is bounded twice: each topic keeps its newest `maxlen` entries (Redis: MAXLEN), and all
topics together keep at most `max_entries`: past it, whole topics go, the least recently
published first (Redis lets an idle stream expire instead). Without the second bound every
article ever written would keep a topic in memory for the life of the process.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Mapping, Sequence

from core.shared.outbox import OutboxMessage, StoredMessage, StreamEntries, wait_for_entries


class InProcessPublisher:
    def __init__(self, *, maxlen: int = 1000, max_entries: int = 10_000) -> None:
        self._maxlen = maxlen
        self._max_entries = max(max_entries, maxlen)
        # Least recently published first: the order in which topics are dropped.
        self._streams: OrderedDict[str, deque[tuple[int, OutboxMessage]]] = OrderedDict()
        self._entries = 0
        self._published = asyncio.Event()  # replaced after each publish: waiters wake

    @property
    def entries(self) -> int:
        """Entries kept over all topics (at most `max_entries`)."""
        return self._entries

    async def publish(self, messages: Sequence[StoredMessage]) -> None:
        for stored in messages:
            topic = stored.message.topic
            stream = self._streams.get(topic)
            if stream is None:
                stream = self._streams[topic] = deque(maxlen=self._maxlen)
            else:
                self._streams.move_to_end(topic)
            if stream and stream[-1][0] >= stored.id:
                continue  # published already
            if len(stream) == self._maxlen:
                self._entries -= 1  # the deque drops its oldest
            stream.append((stored.id, stored.message))
            self._entries += 1
            while self._entries > self._max_entries:
                _, dropped = self._streams.popitem(last=False)
                self._entries -= len(dropped)
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
