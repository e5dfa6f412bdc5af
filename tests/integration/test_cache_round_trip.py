"""Every field of a view survives the cache: encoded by name, decoded through View.of.

The views are fully populated from their field types (tests/samples.py), so a field added to
a view is covered here without touching this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import orjson
import pytest

from adapters.cache.queries import CachedArticleQueries, CachedProfileQueries, decode, encode
from core.articles.views import ArticleFilter, ArticleView, CommentView
from core.profiles.views import ProfileView
from core.shared.cache import Cache
from core.shared.ids import CommentId, UserId
from core.shared.pagination import Page, PageRequest
from core.shared.views import View
from tests.samples import a_full_view


class OneArticle:
    """ArticleQueries and ProfileQueries that know one fully populated article and its author,
    whoever asks; `calls` counts the reads that reach them (not served by the cache)."""

    def __init__(self) -> None:
        self.article = a_full_view(ArticleView)
        self.calls = 0

    async def get_article(self, slug: str, viewer: UserId | None) -> ArticleView | None:
        self.calls += 1
        return self.article if slug == self.article.slug else None

    async def viewer_flags(self, slug: str, viewer: UserId) -> tuple[bool, bool] | None:
        return self.article.favorited, self.article.author.following

    async def list_articles(
        self, filters: ArticleFilter, page: PageRequest, viewer: UserId | None
    ) -> Page[ArticleView]:
        self.calls += 1
        return Page((self.article,), 1)

    async def feed(self, viewer: UserId, page: PageRequest) -> Page[ArticleView]:
        return Page((), 0)

    async def list_comments(self, slug: str, viewer: UserId | None) -> list[CommentView] | None:
        return []

    async def get_comment(self, comment_id: CommentId, viewer: UserId | None) -> CommentView | None:
        return None

    async def list_tags(self) -> list[str]:
        return list(self.article.tags)

    async def get_profile(self, username: str, viewer: UserId | None) -> ProfileView | None:
        self.calls += 1
        return self.article.author if username == self.article.author.username else None

    async def is_following(self, username: str, viewer: UserId) -> bool:
        return self.article.author.following


@pytest.mark.parametrize("kind", [ArticleView, CommentView, ProfileView])
def test_encoding_then_decoding_a_view_gives_it_back(kind: type[View]) -> None:
    view = a_full_view(kind)

    assert decode(kind, orjson.loads(encode(view))) == view


async def test_a_cached_article_reads_back_whole(cache: Cache) -> None:
    inner = OneArticle()
    cached = CachedArticleQueries(inner, cache)

    first = await cached.get_article(inner.article.slug, None)
    again = await cached.get_article(inner.article.slug, None)

    assert inner.calls == 1  # the second read was the cache's
    assert again == first == inner.article


async def test_a_cached_page_reads_back_whole_for_anonymous_readers(cache: Cache) -> None:
    """Whole as a list renders it: every field but `body`, which list responses omit."""
    inner = OneArticle()
    cached = CachedArticleQueries(inner, cache)
    listed = replace(
        inner.article,
        body="",
        favorited=False,
        author=replace(inner.article.author, following=False),
    )

    first = await cached.list_articles(ArticleFilter(), PageRequest(20, 0), None)
    again = await cached.list_articles(ArticleFilter(), PageRequest(20, 0), None)

    assert inner.calls == 1
    assert again == first == Page((listed,), 1)


class Recording:
    """A Cache that keeps what is written to it, by key."""

    def __init__(self, cache: Cache) -> None:
        self.inner = cache
        self.written: dict[str, bytes] = {}

    async def read(self, key: str, deps: Sequence[str]) -> tuple[bytes | None, str]:
        return await self.inner.read(key, deps)

    async def write(
        self, key: str, deps: Sequence[str], stamp: str, value: bytes, ttl_s: int
    ) -> None:
        self.written[key] = value
        await self.inner.write(key, deps, stamp, value, ttl_s)

    async def invalidate(self, deps: Sequence[str]) -> None:
        await self.inner.invalidate(deps)


async def test_a_cached_page_holds_no_article_body(cache: Cache) -> None:
    inner = OneArticle()
    inner.article = replace(inner.article, body="It takes a Jacobian. " * 1000)  # ~21 KB
    recording = Recording(cache)
    cached = CachedArticleQueries(inner, recording)

    await cached.list_articles(ArticleFilter(), PageRequest(20, 0), None)

    (entry,) = recording.written.values()
    assert b"Jacobian" not in entry
    assert len(entry) < 2_000


async def test_a_cached_profile_reads_back_whole(cache: Cache) -> None:
    inner = OneArticle()
    cached = CachedProfileQueries(inner, cache)

    first = await cached.get_profile(inner.article.author.username, None)
    again = await cached.get_profile(inner.article.author.username, None)

    assert inner.calls == 1
    assert again == first == inner.article.author
