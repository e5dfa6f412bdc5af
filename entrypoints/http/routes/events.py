"""Routes: Server-Sent Events of an article's public changes (FastAPI's own SSE support)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from core.articles.live import ArticleEvent, ArticleStream, WatchArticle
from core.shared.live import ConnectionLimits, TooManyConnections
from entrypoints import metrics
from entrypoints.http.deps import provide, resolved_from
from entrypoints.http.errors import error_responses
from entrypoints.http.middleware import HEAD_SCOPE_KEY
from entrypoints.http.schemas.articles import Comment
from entrypoints.http.schemas.events import ArticleEventItem

router = APIRouter(tags=["articles"], responses=error_responses(404, 422, 429))
Slug = Annotated[str, Path(max_length=200, examples=["how-to-train-your-dragon"])]
WatchArticleDep = Annotated[WatchArticle, Depends(provide(WatchArticle))]
KIND = "sse"

STREAM_DESCRIPTION = (
    "`text/event-stream`: each event has `event:` (its type), `id:` and `data:` (JSON), as "
    "`ArticleEventItem` describes; a comment line (`: heartbeat`) is sent when nothing "
    "happened for a while. Not buffered by proxies (`X-Accel-Buffering: no`). The stream ends "
    "at `article.deleted`, after its maximum lifetime, when the server shuts down, and when the "
    "client falls too far behind: reconnect with `Last-Event-ID`. Open streams are capped "
    "(429 with `Retry-After` before streaming starts)."
)


async def open_stream(
    slug: Slug,
    watch: WatchArticleDep,
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", max_length=45, description="Resume after this event"),
    ] = None,
) -> ArticleStream:
    # A dependency: an unknown slug or a bad Last-Event-ID is answered before streaming starts.
    return await watch.open(slug, last_event_id)


async def stream_slot(request: Request) -> AsyncIterator[None]:
    """A place among the open live connections (LIVE_MAX_CONNECTIONS in all,
    LIVE_MAX_CONNECTIONS_PER_USER per client address), held while the stream runs; 429 with
    Retry-After when there is none, before streaming starts."""
    limits = resolved_from(request, ConnectionLimits)
    address = request.client.host if request.client else None
    try:
        slot = limits.acquire(KIND, None if address is None else f"address:{address}")
    except TooManyConnections:
        metrics.count_live_refused(KIND)
        raise
    try:
        yield
    finally:
        slot.release()


def _sse(event: ArticleEvent) -> ServerSentEvent:
    data: dict[str, Any] = dict(event.data)
    if event.type == "comment.created":
        view = event.comment
        data["comment"] = None if view is None else Comment.of(view).model_dump(mode="json")
    return ServerSentEvent(event=event.type, id=event.id, data=data)


@router.get(
    "/articles/{slug}/events",
    name="articles:events",
    summary="Stream an article's changes (Server-Sent Events)",
    description=inspect.getdoc(WatchArticle),
    response_class=EventSourceResponse,
    responses={200: {"model": ArticleEventItem, "description": STREAM_DESCRIPTION}},
)
async def article_events(
    request: Request,
    stream: Annotated[ArticleStream, Depends(open_stream)],
    _slot: Annotated[None, Depends(stream_slot)],
    watch: WatchArticleDep,
) -> AsyncIterable[ServerSentEvent]:
    if request.scope.get(HEAD_SCOPE_KEY):  # a HEAD: the headers, then done
        return
    async for event in watch.events(stream):
        if event is None:
            yield ServerSentEvent(comment="heartbeat")
            continue
        yield _sse(event)
        metrics.count_live_delivered(KIND)
