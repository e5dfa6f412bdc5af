"""Caching decorators for the read ports: cache-aside over any Cache adapter.

Cached: the viewer-independent part of single articles and profiles, the tag list, and the
first pages of the unfiltered global list for anonymous readers (their items without `body`,
which lists never show: ArticleQueries). The viewer's own flags (`favorited`, `following`) are
never cached: they are looked up per request (one statement), so they stay exact. Values are
orjson: a view is stored as its fields by name and read back through its own constructor
(`View.of`), so a field added to a view needs no change here. Keys carry CACHE_SCHEMA so a
deploy with a new encoding never reads an old one (an entry without a new field reads as a
miss: KeyError).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

import orjson

from core.articles.ports import ArticleQueries
from core.articles.views import ArticleFilter, ArticleView, CommentView
from core.profiles.ports import ProfileQueries
from core.profiles.views import ProfileView
from core.shared.cache import (
    ARTICLES,
    AUTHORS,
    CACHE_SCHEMA,
    TAGS,
    Cache,
    article_dep,
    profile_dep,
)
from core.shared.fifo import remember
from core.shared.ids import CommentId, UserId
from core.shared.pagination import Page, PageRequest
from core.shared.views import View

CACHED_LIST_OFFSET_MAX = 100  # "the first pages"


V = TypeVar("V", bound=View)


def encode(value: Any) -> bytes:
    """orjson writes a view (a dataclass) as its fields by name, nested views alike."""
    return orjson.dumps(value)


def decode(kind: type[V], data: Any) -> V:
    """A view from its decoded JSON object; TypeError when `data` is not one."""
    if not isinstance(data, dict):
        raise TypeError(f"a cached {kind.__name__} is a JSON object")
    return kind.of(data)


class DecodedValues:
    """The last few values read from the cache, decoded, by their exact bytes.

    Views are immutable, so a value read again (a hot list page, a popular article) need not be
    parsed and rebuilt: decoding was a tenth of a cached list request's CPU. Keyed by the bytes
    themselves, so a changed value is a different key; small values only, few of them, so the
    memory held stays in the megabytes.
    """

    def __init__(self, entries: int = 64, max_value_bytes: int = 64 * 1024) -> None:
        self._values: dict[bytes, Any] = {}
        self._entries, self._max_value_bytes = entries, max_value_bytes

    def get(self, raw: bytes) -> Any | None:
        return self._values.get(raw)

    def put(self, raw: bytes, value: Any) -> None:
        if len(raw) > self._max_value_bytes:
            return
        remember(self._values, raw, value, self._entries)


def _list_item(view: ArticleView) -> ArticleView:
    """An article as a cached list page holds it: anonymous, and without its body, which a
    list response never renders (RealWorld 1.1.0 list items have no `body`): with it a page of
    twenty was ~25 KB in Redis and in each process's memos, without it ~5 KB."""
    return replace(view, body="", favorited=False, author=replace(view.author, following=False))


class CachedArticleQueries:
    """ArticleQueries decorator: reads through `cache`, delegates everything else."""

    def __init__(self, inner: ArticleQueries, cache: Cache, *, ttl_s: int = 300) -> None:
        self._inner, self._cache, self._ttl = inner, cache, ttl_s
        self._decoded = DecodedValues()

    async def _base_article(self, slug: str) -> ArticleView | None:
        key = f"{CACHE_SCHEMA}:article:{slug}"
        deps = [article_dep(slug), AUTHORS]
        raw, stamp = await self._cache.read(key, deps)
        if raw is not None:
            known: ArticleView | None = self._decoded.get(raw)
            if known is not None:
                return known
            try:
                cached = decode(ArticleView, orjson.loads(raw))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                pass  # garbage in the cache: treat as a miss, and overwrite it below
            else:
                self._decoded.put(raw, cached)
                return cached
        view = await self._inner.get_article(slug, None)
        if view is not None:
            await self._cache.write(key, deps, stamp, encode(view), self._ttl)
        return view

    async def get_article(self, slug: str, viewer: UserId | None) -> ArticleView | None:
        base = await self._base_article(slug)
        if base is None or viewer is None:
            return base
        flags = await self._inner.viewer_flags(slug, viewer)
        if flags is None:  # deleted since it was cached
            return None
        favorited, following = flags
        return replace(base, favorited=favorited, author=replace(base.author, following=following))

    async def viewer_flags(self, slug: str, viewer: UserId) -> tuple[bool, bool] | None:
        return await self._inner.viewer_flags(slug, viewer)

    async def list_articles(
        self, filters: ArticleFilter, page: PageRequest, viewer: UserId | None
    ) -> Page[ArticleView]:
        cacheable = (
            viewer is None and filters == ArticleFilter() and page.offset < CACHED_LIST_OFFSET_MAX
        )
        if not cacheable:
            return await self._inner.list_articles(filters, page, viewer)
        key = f"{CACHE_SCHEMA}:list:{page.limit}:{page.offset}"
        deps = [ARTICLES, AUTHORS]
        raw, stamp = await self._cache.read(key, deps)
        if raw is not None:
            known: Page[ArticleView] | None = self._decoded.get(raw)
            if known is not None:
                return known
            try:
                data = orjson.loads(raw)
                items = tuple(decode(ArticleView, item) for item in data["items"])
                decoded = Page(items, int(data["total"]))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                pass
            else:
                self._decoded.put(raw, decoded)
                return decoded
        read = await self._inner.list_articles(filters, page, None)
        result = Page(tuple(_list_item(v) for v in read.items), read.total)  # as a hit gives it
        payload = {"items": result.items, "total": result.total}
        await self._cache.write(key, deps, stamp, encode(payload), self._ttl)
        return result

    async def feed(self, viewer: UserId, page: PageRequest) -> Page[ArticleView]:
        return await self._inner.feed(viewer, page)

    async def list_comments(self, slug: str, viewer: UserId | None) -> list[CommentView] | None:
        return await self._inner.list_comments(slug, viewer)

    async def get_comment(self, comment_id: CommentId, viewer: UserId | None) -> CommentView | None:
        return await self._inner.get_comment(comment_id, viewer)

    async def list_tags(self) -> list[str]:
        key = f"{CACHE_SCHEMA}:tags"
        raw, stamp = await self._cache.read(key, [TAGS])
        if raw is not None:
            known: list[str] | None = self._decoded.get(raw)
            if known is not None:
                return known  # the same list while the value stays the same: never mutate it
            try:
                tags = orjson.loads(raw)
                if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
                    self._decoded.put(raw, tags)
                    return tags
            except orjson.JSONDecodeError:
                pass
        tags = await self._inner.list_tags()
        await self._cache.write(key, [TAGS], stamp, encode(tags), self._ttl)
        return tags


class CachedProfileQueries:
    """ProfileQueries decorator: the profile is cached, `following` looked up per viewer."""

    def __init__(self, inner: ProfileQueries, cache: Cache, *, ttl_s: int = 300) -> None:
        self._inner, self._cache, self._ttl = inner, cache, ttl_s
        self._decoded = DecodedValues()

    async def get_profile(self, username: str, viewer: UserId | None) -> ProfileView | None:
        key = f"{CACHE_SCHEMA}:{profile_dep(username)}"  # one entry for "Jake" and "jake"
        deps = [profile_dep(username)]
        raw, stamp = await self._cache.read(key, deps)
        base: ProfileView | None = None
        if raw is not None:
            base = self._decoded.get(raw)
            if base is None:
                try:
                    base = decode(ProfileView, orjson.loads(raw))
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                    base = None
                else:
                    self._decoded.put(raw, base)
        if base is None:
            base = await self._inner.get_profile(username, None)
            if base is None:
                return None
            await self._cache.write(key, deps, stamp, encode(base), self._ttl)
        if viewer is None:
            return base
        return replace(base, following=await self._inner.is_following(username, viewer))

    async def is_following(self, username: str, viewer: UserId) -> bool:
        return await self._inner.is_following(username, viewer)
