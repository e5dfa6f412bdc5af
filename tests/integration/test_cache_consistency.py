"""Stateful check: random writes and reads through the cached read ports never disagree with
the uncached ones, on the in-memory cache and on real Redis.

Writes go through the use cases (so invalidation runs exactly as in production: events
recorded in the transaction, handed to the CacheInvalidator after commit); after every step
each read is asked of the cached and of the plain queries, for anonymous and signed-in viewers.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from redis.asyncio import Redis

from adapters.cache.queries import CachedArticleQueries, CachedProfileQueries
from adapters.memory.cache import InMemoryCache
from adapters.memory.queries import InMemoryArticleQueries, InMemoryProfileQueries
from adapters.memory.store import InMemoryUnitOfWork, MemoryDatabase
from adapters.redis.cache import RedisCache
from core.articles.errors import ArticleNotFound
from core.articles.use_cases import (
    DeleteArticle,
    EditArticle,
    EditArticleInput,
    FavoriteArticle,
    PublishArticle,
    PublishArticleInput,
    UnfavoriteArticle,
)
from core.articles.views import ArticleFilter
from core.shared.cache import Cache, CacheInvalidator
from core.shared.errors import DomainError
from core.shared.pagination import PageRequest
from core.users.model import Actor
from core.users.use_cases import RegisterUser, RegisterUserInput, UpdateUser, UpdateUserInput
from tests.fakes.clock import TickingClock
from tests.fakes.passwords import FakePasswordHasher
from tests.infra import REDIS_PREFIX
from tests.samples import listed

NAMES = ("ann", "bob", "cyd")

TITLES = ("Dragons", "Dragons", "Knights", "Ships of the line", "Tea")


class CacheConsistency(RuleBasedStateMachine):
    backend = "memory"
    redis_url = ""

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.redis: Redis | None = None
        self.slugs: list[str] = []
        self.usernames: list[str] = list(NAMES)
        self.actors: list[Actor] = []

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)

    @initialize()
    def start(self) -> None:
        self.run(self._start())

    async def _start(self) -> None:
        cache: Cache
        if self.backend == "redis":
            self.redis = Redis.from_url(self.redis_url)
            cache = RedisCache(self.redis, prefix=f"{REDIS_PREFIX}sm:{uuid.uuid4().hex}:")
        else:
            cache = InMemoryCache()
        db = MemoryDatabase()
        clock = TickingClock()
        self.uow = InMemoryUnitOfWork(db, [CacheInvalidator(cache)])
        self.plain = InMemoryArticleQueries(db)
        self.plain_profiles = InMemoryProfileQueries(db)
        self.cached = CachedArticleQueries(self.plain, cache)
        self.cached_profiles = CachedProfileQueries(self.plain_profiles, cache)
        hasher = FakePasswordHasher()
        register = RegisterUser(self.uow, hasher, clock)
        for name in NAMES:
            user = await register.execute(RegisterUserInput(name, f"{name}@x.io", "password1"))
            self.actors.append(Actor(user.id, f"token of {name}"))
        self.publish = PublishArticle(self.uow, clock)
        self.edit = EditArticle(self.uow, self.cached, clock)
        self.delete = DeleteArticle(self.uow)
        self.favorite = FavoriteArticle(self.uow, self.cached)
        self.unfavorite = UnfavoriteArticle(self.uow, self.cached)
        self.update_user = UpdateUser(self.uow, hasher, clock)

    def teardown(self) -> None:
        if self.redis is not None:
            self.run(self.redis.aclose())
        self.runner.close()

    @rule(
        author=st.integers(0, 2),
        title=st.sampled_from(TITLES),
        tags=st.lists(st.sampled_from(["a", "b", "c"]), max_size=2),
    )
    def publish_article(self, author: int, title: str, tags: list[str]) -> None:
        view = self.run(
            self.publish.execute(self.actors[author], PublishArticleInput(title, "d", "b", tags))
        )
        self.slugs.append(view.slug)

    @rule(
        who=st.integers(0, 2),
        pick=st.integers(0, 20),
        title=st.sampled_from(TITLES),
        body=st.sampled_from(["x", "y"]),
    )
    def edit_article(self, who: int, pick: int, title: str, body: str) -> None:
        if not self.slugs:
            return
        slug = self.slugs[pick % len(self.slugs)]
        try:
            view = self.run(
                self.edit.execute(self.actors[who], slug, EditArticleInput(title=title, body=body))
            )
        except DomainError:
            return  # not the author, or gone: nothing changed
        self.slugs.append(view.slug)

    @rule(who=st.integers(0, 2), pick=st.integers(0, 20))
    def delete_article(self, who: int, pick: int) -> None:
        if self.slugs:
            with contextlib.suppress(DomainError):  # not the author, or gone
                self.run(self.delete.execute(self.actors[who], self.slugs[pick % len(self.slugs)]))

    @rule(who=st.integers(0, 2), pick=st.integers(0, 20), on=st.booleans())
    def toggle_favorite(self, who: int, pick: int, on: bool) -> None:
        if not self.slugs:
            return
        use_case = self.favorite if on else self.unfavorite
        with contextlib.suppress(ArticleNotFound):
            self.run(use_case.execute(self.actors[who], self.slugs[pick % len(self.slugs)]))

    @rule(who=st.integers(0, 2), bio=st.sampled_from(["", "hi", "ho"]), rename=st.booleans())
    def update_profile(self, who: int, bio: str, rename: bool) -> None:
        name = f"{NAMES[who]}{len(self.usernames)}" if rename else None
        self.run(
            self.update_user.execute(self.actors[who], UpdateUserInput(username=name, bio=bio))
        )
        if name:
            self.usernames.append(name)

    @invariant()
    def cached_reads_match_plain_reads(self) -> None:
        self.run(self._compare())

    async def _compare(self) -> None:
        viewers = [None, *(a.user_id for a in self.actors)]
        for slug in set(self.slugs):
            for viewer in viewers:
                assert await self.cached.get_article(slug, viewer) == await self.plain.get_article(
                    slug, viewer
                )
        page = PageRequest(20, 0)
        for viewer in viewers:
            cached = await self.cached.list_articles(ArticleFilter(), page, viewer)
            assert listed(cached) == listed(
                await self.plain.list_articles(ArticleFilter(), page, viewer)
            )
        assert await self.cached.list_tags() == await self.plain.list_tags()
        for name in set(self.usernames):
            for viewer in viewers:
                assert await self.cached_profiles.get_profile(
                    name, viewer
                ) == await self.plain_profiles.get_profile(name, viewer)


SETTINGS = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class MemoryCacheConsistency(CacheConsistency):
    backend = "memory"


class RedisCacheConsistency(CacheConsistency):
    backend = "redis"


def test_the_in_memory_cache_never_serves_stale_data() -> None:
    run_state_machine_as_test(MemoryCacheConsistency, settings=SETTINGS)


@pytest.mark.redis
def test_the_redis_cache_never_serves_stale_data(redis_url: str) -> None:
    RedisCacheConsistency.redis_url = redis_url
    run_state_machine_as_test(RedisCacheConsistency, settings=SETTINGS)
