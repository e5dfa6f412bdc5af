"""Live delivery in one process: one reader of the event streams for every open SSE stream and
WebSocket (`EventHub`), per-connection bounded queues, and caps on open connections.

Each open connection used to ask the streams itself (with Redis: a read of its topic every
0.25 s per client). The hub asks once for all of them: one `wait_many` over the topics someone
in this process follows, woken at once by this process's publishes and polling for the others',
and hands each entry to the subscriptions of its topic. A subscription holds at most
`max_queue` entries; one that falls further behind is marked overflowed and given nothing more
(the connection is closed: an SSE client reconnects with Last-Event-ID, a socket is told 1013),
so a slow client never makes the process hold more than that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType

from core.shared.errors import RateLimited
from core.shared.outbox import EventPublisher, OutboxMessage

logger = logging.getLogger(__name__)

Entry = tuple[str, int, OutboxMessage]  # (stream entry id, outbox id, message)


class Overflowed(Exception):
    """The subscriber fell more than its queue behind; what it missed is not kept for it."""


class Subscription:
    """What the hub hands one connection: the entries of its topics published since it
    subscribed, oldest first, at most `max_queue` waiting."""

    def __init__(self, hub: EventHub, topics: frozenset[str], max_queue: int) -> None:
        self.topics = topics
        self._hub, self._max = hub, max_queue
        self._entries: deque[Entry] = deque()
        self._ready = asyncio.Event()
        self.overflowed = False

    def offer(self, entry: Entry) -> None:
        if self.overflowed:
            return
        if len(self._entries) >= self._max:
            self.overflowed = True
            self._entries.clear()  # never kept: the connection is about to end
        else:
            self._entries.append(entry)
        self._ready.set()

    async def get(self, timeout_s: float) -> list[Entry]:
        """The entries waiting (all of them), or [] once `timeout_s` passed without one.
        Raises Overflowed when the subscriber fell too far behind."""
        if not self._entries and not self.overflowed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self._ready.wait()
        self._ready.clear()
        if self.overflowed:
            raise Overflowed()
        entries = list(self._entries)
        self._entries.clear()
        return entries

    def close(self) -> None:
        self._hub.unsubscribe(self)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EventHub:
    """One reader of the event streams per process, fanning out to subscriptions.

    - `subscribe(topics)` delivers every entry of those topics published after the call
      (its position in each new topic is the topic's newest entry when it subscribed)
    - the reader runs while anyone subscribes and stops when the last one leaves; a
      failure to read (Redis down) is logged once and retried every `retry_s`
    """

    def __init__(
        self,
        publisher: EventPublisher,
        *,
        max_queue: int = 256,
        wait_s: float = 5.0,
        retry_s: float = 1.0,
        batch: int = 100,
    ) -> None:
        self._publisher, self._max_queue = publisher, max_queue
        self._wait_s, self._retry_s, self._batch = wait_s, retry_s, batch
        self._subscribers: dict[str, set[Subscription]] = {}
        self._after: dict[str, str | None] = {}
        self._unplaced: set[str] = set()  # followed, its newest entry not known yet
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def topics(self) -> int:
        return len(self._subscribers)

    async def subscribe(
        self, topics: Iterable[str], *, max_queue: int | None = None
    ) -> Subscription:
        wanted = frozenset(topics)
        for topic in wanted - self._after.keys() - self._unplaced:
            try:
                newest = await self._publisher.last_id(topic)
            except Exception:  # Redis down: the reader places it once it can read again
                self._unplaced.add(topic)
                continue
            self._after.setdefault(topic, newest)  # another subscriber may have set it meanwhile
        subscription = Subscription(self, wanted, max_queue or self._max_queue)
        for topic in wanted:
            self._subscribers.setdefault(topic, set()).add(subscription)
        self._changed.set()
        self._ensure_running()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        for topic in subscription.topics:
            followers = self._subscribers.get(topic)
            if followers is None:
                continue
            followers.discard(subscription)
            if not followers:
                del self._subscribers[topic]
                self._after.pop(topic, None)
                self._unplaced.discard(topic)
        self._changed.set()

    async def close(self) -> None:
        """Stop the reader (the process is going away)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._task
        if task is not None and not task.done() and task.get_loop() is loop:
            return
        self._changed = asyncio.Event()  # bound to this loop (tests run one loop each)
        self._task = loop.create_task(self._run(), name="event-hub")

    async def _run(self) -> None:
        failing = False
        while self._subscribers:
            self._changed.clear()
            try:
                await self._place()
                entries = await self._next(dict(self._after))
                if failing:
                    logger.info("event hub: reading the streams again")
                failing = False
            except Exception as exc:
                if not failing:  # once per outage
                    logger.warning("event hub: cannot read the streams (%s); retrying", exc)
                failing = True
                await asyncio.sleep(self._retry_s)
                continue
            for entry in entries:
                topic = entry[2].topic
                if topic not in self._after:
                    continue  # its last subscriber left meanwhile
                self._after[topic] = entry[0]
                for subscription in tuple(self._subscribers.get(topic, ())):
                    subscription.offer(entry)

    async def _place(self) -> None:
        """Start the topics subscribed while the streams could not be read at their newest
        entry (nothing was published meanwhile: publishing needs the same streams)."""
        for topic in tuple(self._unplaced):
            newest = await self._publisher.last_id(topic)
            self._unplaced.discard(topic)
            if topic in self._subscribers:
                self._after.setdefault(topic, newest)

    async def _next(self, after: dict[str, str | None]) -> list[Entry]:
        """Entries after `after`, or [] as soon as the subscribed topics change."""
        waiting = asyncio.ensure_future(self._publisher.wait_many(after, self._wait_s, self._batch))
        changed = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait({waiting, changed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            changed.cancel()
        if waiting.done():
            return waiting.result()
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        return []


class TooManyConnections(RateLimited):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__("too many live connections; try again later", retry_after_s=retry_after_s)


@dataclass
class ConnectionLimits:
    """Caps on this process's open live connections (SSE streams and sockets together): in
    all, and per key (a user for sockets, a client address for anonymous streams)."""

    total: int = 1_000
    per_key: int = 5
    retry_after_s: int = 5
    on_change: Callable[[str, int], None] = lambda _kind, _delta: None
    _open: int = 0
    _by_key: dict[str, int] = field(default_factory=dict)

    def acquire(self, kind: str, key: str | None = None) -> ConnectionSlot:
        """A slot for one connection, or TooManyConnections (nothing taken then)."""
        if self._open >= self.total:
            raise TooManyConnections(self.retry_after_s)
        if key is not None and self._by_key.get(key, 0) >= self.per_key:
            raise TooManyConnections(self.retry_after_s)
        self._open += 1
        if key is not None:
            self._by_key[key] = self._by_key.get(key, 0) + 1
        self.on_change(kind, 1)
        return ConnectionSlot(self, kind, key)

    def _release(self, kind: str, key: str | None) -> None:
        self._open -= 1
        if key is not None:
            left = self._by_key.get(key, 1) - 1
            if left > 0:
                self._by_key[key] = left
            else:
                self._by_key.pop(key, None)
        self.on_change(kind, -1)

    @property
    def open(self) -> int:
        return self._open


class ConnectionSlot:
    def __init__(self, limits: ConnectionLimits, kind: str, key: str | None) -> None:
        self._limits, self._kind, self._key = limits, kind, key
        self._held = True

    def add_key(self, key: str) -> ConnectionSlot:
        """The same connection, now also counted under `key` (a socket, once authenticated);
        TooManyConnections when that key is full (this slot is kept: release it)."""
        limits = self._limits
        if limits._by_key.get(key, 0) >= limits.per_key:
            raise TooManyConnections(limits.retry_after_s)
        limits._by_key[key] = limits._by_key.get(key, 0) + 1
        if self._key is not None:  # one key per connection
            self._release_key(self._key)
        self._key = key
        return self

    def _release_key(self, key: str) -> None:
        left = self._limits._by_key.get(key, 1) - 1
        if left > 0:
            self._limits._by_key[key] = left
        else:
            self._limits._by_key.pop(key, None)

    def release(self) -> None:
        if self._held:
            self._held = False
            self._limits._release(self._kind, self._key)
