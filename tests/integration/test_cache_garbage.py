"""A cache that answers garbage (a corrupted or foreign value under our key) never breaks a
read and never hides the real data."""

from __future__ import annotations

import pytest

from adapters.cache.queries import CachedArticleQueries, CachedProfileQueries
from adapters.memory.queries import InMemoryArticleQueries, InMemoryProfileQueries
from adapters.memory.store import InMemoryUnitOfWork, MemoryDatabase
from core.articles.use_cases import PublishArticle, PublishArticleInput
from core.articles.views import ArticleFilter
from core.shared.cache import ARTICLES, AUTHORS, CACHE_SCHEMA, TAGS, Cache, article_dep, profile_dep
from core.shared.pagination import PageRequest
from core.users.model import Actor
from core.users.use_cases import RegisterUser, RegisterUserInput
from tests.fakes.clock import TickingClock
from tests.fakes.passwords import FakePasswordHasher
from tests.samples import listed

GARBAGE = [b"", b"not json", b"\xff\xfe\x00", b'{"slug": 1}', b"[1, 2, 3]", b'"tags"', b"null"]


async def poison(cache: Cache, key: str, deps: list[str], value: bytes) -> None:
    _, stamp = await cache.read(key, deps)
    await cache.write(key, deps, stamp, value, 60)


@pytest.mark.parametrize("garbage", GARBAGE)
async def test_garbage_in_the_cache_reads_as_a_miss(cache: Cache, garbage: bytes) -> None:
    db = MemoryDatabase()
    clock = TickingClock()
    uow = InMemoryUnitOfWork(db)
    plain = InMemoryArticleQueries(db)
    cached = CachedArticleQueries(plain, cache)
    profiles = CachedProfileQueries(InMemoryProfileQueries(db), cache)
    register = RegisterUser(uow, FakePasswordHasher(), clock)
    user = await register.execute(RegisterUserInput("jake", "jake@x.io", "password1"))
    actor = Actor(user.id, "token of jake")
    article = await PublishArticle(uow, clock).execute(
        actor, PublishArticleInput("Title", "d", "b", ["t"])
    )
    slug = article.slug
    await poison(cache, f"{CACHE_SCHEMA}:article:{slug}", [article_dep(slug), AUTHORS], garbage)
    await poison(cache, f"{CACHE_SCHEMA}:list:20:0", [ARTICLES, AUTHORS], garbage)
    await poison(cache, f"{CACHE_SCHEMA}:tags", [TAGS], garbage)
    await poison(cache, f"{CACHE_SCHEMA}:profile:jake", [profile_dep("jake")], garbage)

    assert await cached.get_article(slug, None) == await plain.get_article(slug, None)
    page = PageRequest(20, 0)
    assert await cached.list_articles(ArticleFilter(), page, None) == listed(
        await plain.list_articles(ArticleFilter(), page, None)
    )
    assert await cached.list_tags() == ["t"]
    profile = await profiles.get_profile("jake", None)
    assert profile is not None
    assert profile.username == "jake"
    # and the garbage was replaced by the real value
    raw, _ = await cache.read(f"{CACHE_SCHEMA}:tags", [TAGS])
    assert raw == b'["t"]'
