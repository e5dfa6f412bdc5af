"""Redis Streams EventPublisher: one stream per topic (`<prefix>stream:<topic>`), capped.

Each message is added with the stream id `<outbox id>-1`, so a repeat (a relay that published,
then died before marking the rows sent) is recognised and skipped: the stream holds each outbox
message once. A database whose outbox ids start again below what a stream holds (a restore, a
fresh database on an old Redis) is not silenced: such a message gets a new id from Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, cast

import orjson
from redis.asyncio import Redis

from core.shared.outbox import OutboxMessage, StoredMessage, StreamEntries, wait_for_entries

# KEYS[1] = stream; ARGV = outbox id, type, payload, maxlen, ttl seconds. 1 if added.
_ADD = """
local id = ARGV[1] .. '-1'
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local fresh = true
if #last > 0 then
  local ms = tonumber(string.match(last[1][1], '^(%d+)'))
  if ms >= tonumber(ARGV[1]) then
    fresh = false
    if #redis.call('XRANGE', KEYS[1], id, id) == 0 then
      id = '*'  -- not a repeat: ids started again below the stream's
      fresh = true
    end
  end
end
if fresh then
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], id,
             'id', ARGV[1], 'type', ARGV[2], 'payload', ARGV[3])
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
if fresh then return 1 end
return 0
"""


# Streams one XREAD names at most: a process following many topics reads them in chunks.
XREAD_KEYS = 500


class RedisStreamPublisher:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "",
        maxlen: int = 1000,
        ttl_s: int = 86_400,
        poll_s: float = 0.25,
    ) -> None:
        self._redis, self._prefix = redis, prefix
        self._maxlen, self._ttl_s, self._poll_s = maxlen, ttl_s, poll_s
        # This process's publishes wake its waiters at once; others' are found by polling
        # (a blocking XREAD would hold a connection per waiter, past the client's timeouts).
        self._published = asyncio.Event()
        self._add = redis.register_script(_ADD)

    def _key(self, topic: str) -> str:
        return f"{self._prefix}stream:{topic}"

    async def publish(self, messages: Sequence[StoredMessage]) -> None:
        if not messages:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for stored in messages:
                message = stored.message
                payload = orjson.dumps(dict(message.payload))
                args: list[bytes | str | int] = [
                    stored.id,
                    message.type,
                    payload,
                    self._maxlen,
                    self._ttl_s,
                ]
                await self._add(keys=[self._key(message.topic)], args=args, client=pipe)
            await pipe.execute()  # raises the first error: the relay retries the batch
        published, self._published = self._published, asyncio.Event()
        published.set()

    async def read(
        self, topic: str, after: str | None = None, limit: int = 100
    ) -> list[tuple[str, int, OutboxMessage]]:
        start = "-" if after is None else f"({after}"
        entries = cast(
            "list[tuple[bytes, dict[bytes, bytes]]]",
            await self._redis.xrange(self._key(topic), min=start, count=limit),
        )
        out: list[tuple[str, int, OutboxMessage]] = []
        for entry_id, fields in entries:
            payload = orjson.loads(fields[b"payload"])
            message = OutboxMessage(topic, fields[b"type"].decode(), payload)
            out.append((entry_id.decode(), int(fields[b"id"]), message))
        return out

    async def last_id(self, topic: str) -> str | None:
        newest = cast(
            "list[tuple[bytes, dict[bytes, bytes]]]",
            await self._redis.xrevrange(self._key(topic), count=1),
        )
        return newest[0][0].decode() if newest else None

    async def wait(
        self, topic: str, after: str | None, timeout_s: float, limit: int = 100
    ) -> list[tuple[str, int, OutboxMessage]]:
        # Woken at once by this process's publishes; other processes' are read every poll.
        return await wait_for_entries(
            lambda: self.read(topic, after, limit),
            lambda: self._published,
            timeout_s,
            poll_s=self._poll_s,
        )

    async def read_many(self, after: Mapping[str, str | None], limit: int = 100) -> StreamEntries:
        """One non-blocking XREAD per XREAD_KEYS topics (no blocking read: it would hold a
        connection past the client's short timeouts)."""
        topics = list(after)
        out: StreamEntries = []
        for start in range(0, len(topics), XREAD_KEYS):
            chunk = topics[start : start + XREAD_KEYS]
            by_key = {self._key(topic): topic for topic in chunk}
            streams: dict[Any, Any] = {self._key(topic): after[topic] or "0-0" for topic in chunk}
            reply: Any = await self._redis.xread(streams, count=limit)
            if isinstance(reply, dict):  # RESP3
                reply = list(reply.items())
            replies = cast("list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]]", reply)
            for key, entries in replies or []:
                topic = by_key[key.decode()]
                for entry_id, fields in entries:
                    payload = orjson.loads(fields[b"payload"])
                    message = OutboxMessage(topic, fields[b"type"].decode(), payload)
                    out.append((entry_id.decode(), int(fields[b"id"]), message))
        return out

    async def wait_many(
        self, after: Mapping[str, str | None], timeout_s: float, limit: int = 100
    ) -> StreamEntries:
        return await wait_for_entries(
            lambda: self.read_many(after, limit),
            lambda: self._published,
            timeout_s,
            poll_s=self._poll_s,
        )
