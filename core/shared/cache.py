"""The Cache port and the one place that maps domain events to what they invalidate.

Cached values depend on named *dependencies* ("article:how-to", "authors", "tags"). Each
dependency has a generation; invalidating it bumps the generation, which retires every value
stored under the old one. A reader takes a `stamp` (the generations) before it reads the
database and stores only if the stamp is still current, so a value read before a concurrent
write can never be cached after that write's invalidation (the classic cache-aside race).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.shared.events import (
    ArticleDeleted,
    ArticleEdited,
    ArticlePublished,
    CommentsChanged,
    DomainEvent,
    FavoritesChanged,
    ProfileChanged,
)
from core.shared.text import caseless_key

# Bump to retire every cached value at once when the shape of cached data changes.
CACHE_SCHEMA = "v1"

ARTICLES = "articles"  # any article in any list (publish, edit, delete, favorite)
AUTHORS = "authors"  # any profile embedded in article views (bio, image, username)
TAGS = "tags"


def article_dep(slug: str) -> str:
    return f"article:{slug}"


def profile_dep(username: str) -> str:
    # Profiles are looked up regardless of case ("Jake" is "jake"): one dependency for all.
    return f"profile:{caseless_key(username)}"


class Cache(Protocol):
    """Versioned cache-aside store (contract suite: tests/contract/test_cache.py).

    - `read` answers (value or None, stamp); a value is returned only if every dependency's
      generation is the one it was stored under
    - `write` stores only if the dependencies still have the generations in `stamp`
    - `invalidate` bumps the generations of the dependencies
    - an unavailable backend reads as a miss and drops writes; it never raises
    """

    async def read(self, key: str, deps: Sequence[str]) -> tuple[bytes | None, str]: ...
    async def write(
        self, key: str, deps: Sequence[str], stamp: str, value: bytes, ttl_s: int
    ) -> None: ...
    async def invalidate(self, deps: Sequence[str]) -> None: ...


def invalidated_by(event: DomainEvent) -> list[str]:
    """The dependencies an event makes stale."""
    match event:
        case ArticlePublished(slug) | ArticleDeleted(slug):
            return [article_dep(slug), ARTICLES, TAGS]
        case ArticleEdited(old_slug, new_slug):
            return [article_dep(old_slug), article_dep(new_slug), ARTICLES, TAGS]
        case FavoritesChanged(slug):
            return [article_dep(slug), ARTICLES]
        case ProfileChanged(old_username, new_username):
            return [profile_dep(old_username), profile_dep(new_username), AUTHORS]
        case CommentsChanged():
            return []  # comment lists are not cached: nothing to invalidate
    return []


class CacheInvalidator:
    """CommitListener: invalidates what the committed events made stale."""

    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    async def committed(self, events: Sequence[DomainEvent]) -> None:
        deps: list[str] = []
        for event in events:
            deps.extend(d for d in invalidated_by(event) if d not in deps)
        if deps:
            await self._cache.invalidate(deps)
