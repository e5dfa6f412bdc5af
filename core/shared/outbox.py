"""The transactional outbox: which committed events become durable messages, and the relay.

A use case's events are written to the outbox by its unit of work, in the same transaction as
its writes (one statement). The relay (`RelayOutbox`) later claims unsent messages in order,
lets the outbox consumers (notifications) act on them in its own transaction, publishes them
(`EventPublisher`: Redis Streams, or in process) and marks them sent when that transaction
commits. A process that dies between a commit and the publish loses nothing: the rows wait.
Publishing is at least once (a relay dying after the publish and before its commit publishes
again); each message carries its outbox id so a consumer can drop a repeat.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from core.shared.clock import Clock
from core.shared.errors import ConcurrentChange, Unavailable
from core.shared.events import (
    ArticleDeleted,
    ArticleEdited,
    ArticlePublished,
    CommentsChanged,
    DomainEvent,
    FavoritesChanged,
    NotificationAdded,
    SessionsRevoked,
    UserFollowed,
)
from core.shared.uow import Transaction, UnitOfWork

logger = logging.getLogger(__name__)

# The version of every payload's shape; a consumer reading "v" knows what it gets.
PAYLOAD_VERSION = 1

JsonValue = str | int | bool | None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A fact for the outside world. `topic` is the stream it goes to (`article:<id>` for an
    article's public changes, `user:<id>` for what happened to a user: followed, notified,
    logged out everywhere); messages of one topic are relayed in the order they were
    committed. `payload` is JSON-ready and carries "v"."""

    topic: str
    type: str
    payload: Mapping[str, JsonValue]


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """An outbox row: the message with its outbox id (increasing in commit order per topic)."""

    id: int
    message: OutboxMessage
    created_at: datetime


def article_topic(article_id: object) -> str:
    return f"article:{article_id}"


def user_topic(user_id: object) -> str:
    return f"user:{user_id}"


def entry_order(entry_id: str) -> tuple[int, int]:
    """A stream entry id (`<ms>-<seq>`, as Redis Streams number them) as a sortable key."""
    first, _, second = entry_id.partition("-")
    return int(first), int(second or 0)


def _message(topic: str, type_: str, **payload: JsonValue) -> OutboxMessage:
    return OutboxMessage(topic, type_, {"v": PAYLOAD_VERSION, **payload})


def message_for(event: DomainEvent) -> OutboxMessage | None:
    """The durable message an event becomes; None for events only the cache cares about."""
    match event:
        case ArticlePublished(slug, article_id, author_id, title):
            return _message(
                article_topic(article_id),
                "article.published",
                articleId=str(article_id),
                slug=slug,
                title=title,
                authorId=str(author_id),
            )
        case ArticleEdited(_, new_slug, article_id, title):
            return _message(
                article_topic(article_id),
                "article.updated",
                articleId=str(article_id),
                slug=new_slug,
                title=title,
            )
        case ArticleDeleted(slug, article_id):
            return _message(
                article_topic(article_id), "article.deleted", articleId=str(article_id), slug=slug
            )
        case FavoritesChanged(slug, article_id, actor_id, favorited):
            return _message(
                article_topic(article_id),
                "article.favorited" if favorited else "article.unfavorited",
                articleId=str(article_id),
                slug=slug,
                actorId=str(actor_id),
            )
        case CommentsChanged(slug, article_id, comment_id, actor_id, deleted):
            return _message(
                article_topic(article_id),
                "comment.deleted" if deleted else "comment.created",
                articleId=str(article_id),
                slug=slug,
                commentId=int(comment_id),
                actorId=str(actor_id),
            )
        case UserFollowed(follower_id, followee_id):
            return _message(
                user_topic(followee_id),
                "user.followed",
                followerId=str(follower_id),
                followeeId=str(followee_id),
            )
        case NotificationAdded(recipient_id, notification_id):
            return _message(
                user_topic(recipient_id), "notification.created", notificationId=notification_id
            )
        case SessionsRevoked(user_id):
            return _message(user_topic(user_id), "user.sessions_revoked", userId=str(user_id))
    return None


def messages_for(events: Sequence[DomainEvent]) -> list[OutboxMessage]:
    """The messages a transaction's events become, in the order they were recorded."""
    return [m for m in map(message_for, events) if m is not None]


class OutboxRepository(Protocol):
    """The outbox rows, inside a transaction (contract suite: tests/contract/test_outbox.py).

    - the unit of work writes a transaction's messages when it commits (not this port)
    - `claim` returns up to `limit` unsent messages in outbox id order, never one whose topic
      has an earlier unsent message it does not also return, and locks them: another relay's
      `claim` skips them until this transaction ends (Postgres: FOR UPDATE SKIP LOCKED;
      SQLite and memory: one writer at a time)
    - `mark_sent` marks them sent (effective on commit; a rollback leaves them unsent)
    - `prune` deletes messages sent before `sent_before`, returns how many
    """

    async def claim(self, limit: int) -> list[StoredMessage]: ...
    async def mark_sent(self, ids: Sequence[int], now: datetime) -> None: ...
    async def prune(self, sent_before: datetime) -> int: ...


class OutboxTransaction(Transaction, Protocol):
    @property
    def outbox(self) -> OutboxRepository: ...


TxT = TypeVar("TxT", bound=OutboxTransaction)
TxT_contra = TypeVar("TxT_contra", bound=OutboxTransaction, contravariant=True)


class OutboxConsumer(Protocol[TxT_contra]):
    """Acts on relayed messages inside the relay's transaction (so exactly once: its writes
    commit with the rows marked sent). Notifications are one."""

    async def consume(self, tx: TxT_contra, messages: Sequence[StoredMessage]) -> None: ...


StreamEntries = list[tuple[str, int, "OutboxMessage"]]


async def wait_for_entries(
    read: Callable[[], Awaitable[StreamEntries]],
    published: Callable[[], asyncio.Event],
    timeout_s: float,
    *,
    poll_s: float = math.inf,
) -> StreamEntries:
    """What `read()` returns once it returns something, or [] after `timeout_s`: the waiting
    of EventPublisher.wait for every adapter. `published()` is the event this process sets
    on its next publish (a new one after each); `poll_s` reads again that often, for what
    other processes published."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        event = published()
        if entries := await read():
            return entries
        remaining = deadline - loop.time()
        if remaining <= 0:
            return []
        try:
            async with asyncio.timeout(min(remaining, poll_s)):
                await event.wait()
        except TimeoutError:
            pass


class EventPublisher(Protocol):
    """Where relayed messages go (contract suite: tests/contract/test_event_publisher.py).

    - `publish` appends each message to its topic's stream, in the order given, capped to a
      maximum length (the oldest go); it raises if they could not be published
    - `read` answers a topic's entries after `after` (a stream entry id; None: from the
      oldest kept), oldest first, at most `limit`, as (entry id, outbox id, message)
    - `wait` answers as soon as an entry after `after` is there, or empty after its timeout
    """

    async def publish(self, messages: Sequence[StoredMessage]) -> None: ...
    async def read(
        self, topic: str, after: str | None = None, limit: int = 100
    ) -> list[tuple[str, int, OutboxMessage]]: ...
    async def last_id(self, topic: str) -> str | None:
        """The id of the topic's newest entry (None: none kept): where a new reader starts."""
        ...

    async def wait(
        self, topic: str, after: str | None, timeout_s: float, limit: int = 100
    ) -> list[tuple[str, int, OutboxMessage]]:
        """As `read`; when nothing is there yet, waits up to `timeout_s` for an entry
        (published by any process; an empty list when none came)."""
        ...

    async def wait_many(
        self, after: Mapping[str, str | None], timeout_s: float, limit: int = 100
    ) -> StreamEntries:
        """As `wait`, for several topics at once (one reader for a whole process, see
        core/shared/live.py): the entries of each topic after its own position (None: from
        the oldest kept), at most `limit` per topic, each topic's oldest first; an entry's
        message names its topic. Empty after `timeout_s` when none came."""
        ...


@dataclass(frozen=True, slots=True)
class RelayPolicy:
    batch_size: int = 100
    poll_interval_s: float = 1.0
    retention: timedelta = timedelta(days=1)


class RelayNudge:
    """CommitListener: wakes the relay at once when a transaction wrote outbox messages, so
    an event need not wait for the next poll (the poll still finds what another process wrote)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    async def committed(self, events: Sequence[DomainEvent]) -> None:
        if any(message_for(e) is not None for e in events):
            self._event.set()

    def wake(self) -> None:
        self._event.set()

    async def wait(self, timeout_s: float) -> None:
        try:
            async with asyncio.timeout(timeout_s):
                await self._event.wait()
        except TimeoutError:
            pass
        self._event.clear()


# How many times in a row a batch that lost a race to a delete is run again at once.
RACE_RETRIES = 3


class RelayOutbox(Generic[TxT]):
    """Moves committed outbox messages on: consumers, then the publisher, then marks them sent,
    all in one transaction; ordered per topic; safe with several relays at once."""

    def __init__(
        self,
        uow: UnitOfWork[TxT],
        publisher: EventPublisher,
        consumers: Sequence[OutboxConsumer[TxT]],
        clock: Clock,
        policy: RelayPolicy,
        nudge: RelayNudge,
        *,
        on_relayed: Callable[[Sequence[float]], None] = lambda _lags: None,
    ) -> None:
        self._uow, self._publisher, self._consumers = uow, publisher, tuple(consumers)
        self._clock, self._policy, self._nudge = clock, policy, nudge
        # Told each relayed message's lag (seconds from its commit to its publication).
        self._on_relayed = on_relayed

    def wake(self) -> None:
        """Stop waiting for the next poll (shutdown)."""
        self._nudge.wake()

    async def run_once(self) -> int:
        """Relay one batch; returns how many messages were relayed."""
        async with self._uow.begin() as tx:
            claimed = await tx.outbox.claim(self._policy.batch_size)
            if not claimed:
                return 0
            for consumer in self._consumers:
                await consumer.consume(tx, claimed)
            await self._publisher.publish(claimed)
            now = self._clock.now()
            await tx.outbox.mark_sent([m.id for m in claimed], now)
            await tx.commit()
        self._on_relayed([(now - m.created_at).total_seconds() for m in claimed])
        return len(claimed)

    async def drain(self, *, until_empty: bool = True) -> int:
        """Relay batches until none is left (tests, shutdown); returns how many in all. A
        batch that lost a race to a delete (ConcurrentChange) runs again at once, a few times.

        `until_empty=False` (the background loop) stops after a batch shorter than the batch
        size instead of claiming once more to find nothing (a transaction per wake-up): what
        this process commits meanwhile (the relay's own notifications included) nudges it,
        what other processes commit waits for the next poll, as it always did."""
        total, races = 0, 0
        while True:
            try:
                done = await self.run_once()
            except ConcurrentChange as exc:
                races += 1
                if races > RACE_RETRIES:
                    raise
                logger.info("outbox relay: %s; relaying the batch again", exc)
                continue
            total += done
            if done == 0 or (not until_empty and done < self._policy.batch_size):
                return total

    async def prune(self) -> int:
        async with self._uow.begin() as tx:
            pruned = await tx.outbox.prune(self._clock.now() - self._policy.retention)
            await tx.commit()
        return pruned

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop`: relay what is there, then wait for a nudge or the poll interval.
        A failure (database or Redis down) is logged and retried at the next poll."""
        polls, failing = 0, False
        while not stop.is_set():
            try:
                await self.drain(until_empty=False)
                polls += 1
                if polls % 600 == 1:
                    await self.prune()
                if failing:
                    logger.info("outbox relay: working again")
                failing = False
            except Unavailable as exc:  # the database is down or restarting: no traceback
                if not failing:
                    logger.warning("outbox relay: %s; retrying every poll", exc)
                failing = True
            except Exception:
                if not failing:  # once per outage, not at every poll
                    logger.exception("outbox relay failed; retrying every poll")
                failing = True
            if stop.is_set():
                break
            await self._nudge.wait(self._policy.poll_interval_s)
