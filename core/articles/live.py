"""An article's public changes as a stream of events (Server-Sent Events at the edge)."""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from core.articles.errors import ArticleNotFound
from core.articles.ports import ArticleQueries, ArticlesTransaction
from core.articles.views import CommentView
from core.shared.errors import InvalidInput
from core.shared.ids import ArticleId, CommentId
from core.shared.live import EventHub, Overflowed, Subscription
from core.shared.outbox import (
    PAYLOAD_VERSION,
    EventPublisher,
    OutboxMessage,
    article_topic,
    entry_order,
)
from core.shared.uow import UnitOfWork

# What a watcher of an article is told; `article.unfavorited` arrives as `article.favorited`
# with the new count.
ARTICLE_EVENT_TYPES = (
    "comment.created",
    "comment.deleted",
    "article.updated",
    "article.favorited",
    "article.deleted",
)
_EVENT_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")


@dataclass(frozen=True, slots=True)
class LivePolicy:
    """How long a stream may live, how often it says it is alive, and whether this process
    is shutting down (a stream ends then, so shutdown is not held up by it)."""

    heartbeat_s: float = 15.0
    max_lifetime_s: float = 3600.0
    stopping: Callable[[], bool] = lambda: False


@dataclass(frozen=True, slots=True)
class ArticleEvent:
    """One change of the article: `id` is what a reconnecting client sends back as
    Last-Event-ID; `data` is JSON-ready (with "v"); `comment` is set for comment.created
    (None when the comment was deleted since) for the edge to shape."""

    id: str
    type: str
    data: dict[str, str | int | None]
    comment: CommentView | None = None


@dataclass(slots=True)
class _Progress:
    """Where a stream is: the last entry sent and the article's slug by then."""

    after: str | None
    slug: str


# Entries read from the stream per page when a client resumes.
BACKLOG_PAGE = 100


@dataclass(frozen=True, slots=True)
class ArticleStream:
    """An opened stream: the article it follows, and where it starts."""

    article_id: ArticleId
    slug: str
    after: str | None


def _data(**fields: str | int | None) -> dict[str, str | int | None]:
    return {"v": PAYLOAD_VERSION, **fields}


class WatchArticle:
    """Stream an article's public changes: comments created and deleted, edits (a new title's
    new slug included: the stream follows the article, not the slug), the favorites count, and
    its deletion, which ends the stream.

    - an unknown slug is 404 before anything is streamed
    - `Last-Event-ID` resumes after that event with what was missed (as far as the stream
      still keeps it), then live events; a malformed one is 422
    - the stream ends when the server shuts down or after its maximum lifetime; the client
      reconnects with Last-Event-ID
    - a client too slow to take the events as fast as they come is ended too (it reconnects
      with Last-Event-ID and catches up from the stream): the server never queues more than
      a bounded number of events for it
    """

    def __init__(
        self,
        uow: UnitOfWork[ArticlesTransaction],
        queries: ArticleQueries,
        publisher: EventPublisher,
        hub: EventHub,
        policy: LivePolicy,
    ) -> None:
        self._uow, self._queries, self._publisher, self._policy = uow, queries, publisher, policy
        self._hub = hub
        # Shared by every stream in the process: one comment lookup per event, not per client.
        self._comments: OrderedDict[str, CommentView | None] = OrderedDict()

    async def open(self, slug: str, last_event_id: str | None) -> ArticleStream:
        if last_event_id is not None and not _EVENT_ID.fullmatch(last_event_id):
            raise InvalidInput("is not an event id of this stream", field="Last-Event-ID")
        async with self._uow.begin(read_only=True) as tx:
            article = await tx.articles.get_by_slug(slug)
        if article is None:
            raise ArticleNotFound()
        after = last_event_id
        if after is None:  # from now on
            after = await self._publisher.last_id(article_topic(article.id))
        return ArticleStream(article.id, article.slug, after)

    async def events(self, stream: ArticleStream) -> AsyncIterator[ArticleEvent | None]:
        """The article's events from the stream's start; None when `heartbeat_s` passed
        without one (the edge sends a keep-alive comment). Live events come from the
        process's EventHub; what was published before (a Last-Event-ID resume) is read from
        the stream first."""
        topic = article_topic(stream.article_id)
        async with await self._hub.subscribe([topic]) as live:
            state = _Progress(stream.after, stream.slug)
            while True:  # the backlog: what the stream keeps after the client's position
                backlog = await self._publisher.read(topic, state.after, BACKLOG_PAGE)
                async for fresh in self._fresh(backlog, state):
                    yield fresh
                    if fresh.type == "article.deleted":
                        return
                if len(backlog) < BACKLOG_PAGE:
                    break
            async for event in self._live(live, state):
                yield event

    async def _live(
        self, live: Subscription, state: _Progress
    ) -> AsyncIterator[ArticleEvent | None]:
        loop = asyncio.get_running_loop()
        ends = loop.time() + self._policy.max_lifetime_s
        quiet_since = loop.time()
        while not self._policy.stopping():
            now = loop.time()
            if now >= ends:
                return
            if now - quiet_since >= self._policy.heartbeat_s:
                quiet_since = now
                yield None
                continue
            # Short waits, so shutdown is noticed within a second.
            wait_s = min(ends - now, self._policy.heartbeat_s - (now - quiet_since), 1.0)
            try:
                entries = await live.get(wait_s)
            except Overflowed:
                return  # too slow: the client resumes from the stream with Last-Event-ID
            if not entries:
                continue
            quiet_since = loop.time()
            async for event in self._fresh(entries, state):
                yield event
                if event.type == "article.deleted":
                    return

    async def _fresh(
        self, entries: list[tuple[str, int, OutboxMessage]], state: _Progress
    ) -> AsyncIterator[ArticleEvent]:
        """The events of `entries` after the client's position (the backlog and the live
        entries overlap), moving the position on."""
        for entry_id, _, message in entries:
            if state.after is not None and entry_order(entry_id) <= entry_order(state.after):
                continue
            state.after = entry_id
            event = await self._event(entry_id, message, state.slug)
            if event is None:
                continue
            if event.type == "article.updated":
                state.slug = str(event.data["slug"])
            yield event

    async def _event(self, entry_id: str, message: OutboxMessage, slug: str) -> ArticleEvent | None:
        payload = message.payload
        match message.type:
            case "comment.created":
                comment_id = int(str(payload["commentId"]))
                comment = await self._comment(entry_id, CommentId(comment_id))
                data = _data(slug=slug, commentId=comment_id)
                return ArticleEvent(entry_id, message.type, data, comment)
            case "comment.deleted":
                data = _data(slug=slug, commentId=int(str(payload["commentId"])))
                return ArticleEvent(entry_id, message.type, data)
            case "article.updated":
                data = _data(slug=str(payload["slug"]), title=str(payload["title"]))
                return ArticleEvent(entry_id, message.type, data)
            case "article.favorited" | "article.unfavorited":
                view = await self._queries.get_article(slug, None)
                count = None if view is None else view.favorites_count
                data = _data(slug=slug, favoritesCount=count)
                return ArticleEvent(entry_id, "article.favorited", data)
            case "article.deleted":
                return ArticleEvent(entry_id, message.type, _data(slug=slug))
        return None

    async def _comment(self, entry_id: str, comment_id: CommentId) -> CommentView | None:
        if entry_id not in self._comments:
            self._comments[entry_id] = await self._queries.get_comment(comment_id, None)
            while len(self._comments) > 1000:
                self._comments.popitem(last=False)
        return self._comments[entry_id]
