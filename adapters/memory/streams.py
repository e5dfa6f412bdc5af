"""In-process EventPublisher: capped per-topic streams in this process (no Redis).

Entry ids follow the Redis adapter's (`<outbox id>-1`) and a repeat is skipped alike. Other
processes see nothing of it: without Redis, live updates reach only this process's clients.

Memory is bounded three times: each topic keeps its newest `maxlen` entries (Redis: MAXLEN),
and all topics together keep at most `max_entries` entries and `max_bytes` bytes: past either,
whole topics go, the least recently published first (Redis lets an idle stream expire
instead). Without these every article ever written would keep a topic in memory for the life
of the process. An entry keeps its payload as JSON bytes (as Redis does), about a third of
what the message's dict and strings took; each read decodes a fresh copy.
"""

from __future__ import annotations

import asyncio
import sys
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import orjson

from core.shared.outbox import OutboxMessage, StoredMessage, StreamEntries, wait_for_entries

MAX_ENTRIES = 10_000
MAX_BYTES = 4 * 1024 * 1024
# What an entry costs beyond its payload's JSON: its tuple, id and bytes objects, its slot in
# the topic's list (the type is one interned string per event type); and what a topic costs
# beyond its name: its list and its place in the map. Both counted against max_bytes (a test
# measures them).
ENTRY_OVERHEAD = 150
TOPIC_OVERHEAD = 250

Entry = tuple[int, str, bytes]  # (outbox id, type, payload as JSON)


def _trimmed(data: bytes) -> bytes:
    """A right-sized copy: orjson (3.12 and later) leaves its output in a buffer of 4 KiB or
    more, whatever its length; kept for long, 200 bytes of JSON would hold 4 KiB."""
    return bytes(memoryview(data))


def entry_size(entry: Entry) -> int:
    return len(entry[2]) + ENTRY_OVERHEAD


def topic_size(topic: str) -> int:
    return len(topic) + TOPIC_OVERHEAD


class InProcessPublisher:
    def __init__(
        self, *, maxlen: int = 1000, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES
    ) -> None:
        self._maxlen = maxlen
        self._max_entries = max(max_entries, maxlen)
        self._max_bytes = max_bytes
        # Least recently published first: the order in which topics are dropped.
        # A list per topic, not a deque: most topics (one per article) hold one entry or
        # two, and an empty deque alone takes 600 bytes.
        self._streams: OrderedDict[str, list[Entry]] = OrderedDict()
        self._entries = 0
        self._bytes = 0
        self._published = asyncio.Event()  # replaced after each publish: waiters wake

    @property
    def entries(self) -> int:
        """Entries kept over all topics (at most `max_entries`)."""
        return self._entries

    @property
    def size(self) -> int:
        """Bytes counted over all topics (at most `max_bytes`, but for the newest topic)."""
        return self._bytes

    async def publish(self, messages: Sequence[StoredMessage]) -> None:
        for stored in messages:
            topic = stored.message.topic
            stream = self._streams.get(topic)
            if stream is None:
                stream = self._streams[topic] = []
                self._bytes += topic_size(topic)
            else:
                self._streams.move_to_end(topic)
            if stream and stream[-1][0] >= stored.id:
                continue  # published already
            if len(stream) == self._maxlen:  # its oldest goes
                self._entries -= 1
                self._bytes -= entry_size(stream.pop(0))
            entry = (
                stored.id,
                sys.intern(stored.message.type),
                _trimmed(orjson.dumps(dict(stored.message.payload))),
            )
            stream.append(entry)
            self._entries += 1
            self._bytes += entry_size(entry)
            self._drop_oldest_topics()
        published, self._published = self._published, asyncio.Event()
        published.set()

    def _drop_oldest_topics(self) -> None:
        # The topic just published is the newest: it goes last, and is kept even alone
        # over max_bytes (its maxlen bounds it).
        while len(self._streams) > 1 and (
            self._entries > self._max_entries or self._bytes > self._max_bytes
        ):
            topic, dropped = self._streams.popitem(last=False)
            self._entries -= len(dropped)
            self._bytes -= topic_size(topic) + sum(entry_size(entry) for entry in dropped)

    async def read(
        self, topic: str, after: str | None = None, limit: int = 100
    ) -> list[tuple[str, int, OutboxMessage]]:
        last = -1 if after is None else int(after.split("-", 1)[0])
        stream = self._streams.get(topic, [])
        kept = [entry for entry in stream if entry[0] > last][:limit]
        return [
            (f"{i}-1", i, OutboxMessage(topic, type_, orjson.loads(payload)))
            for i, type_, payload in kept
        ]

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
