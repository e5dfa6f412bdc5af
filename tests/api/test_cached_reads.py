"""Cached anonymous reads are rendered once per process (entrypoints/http/conditional.py,
RenderedOnce), and that never leaks into what a signed-in reader or a later change gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from adapters.memory.cache import InMemoryCache
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.http.conditional import RenderedOnce
from entrypoints.http.routes import articles, profiles
from entrypoints.settings import Settings
from tests.api.helpers import favorite, follow, publish, register
from tests.fakes.clock import TickingClock
from tests.infra import Storage


@pytest.fixture
async def cached_client(
    settings: Settings, storage: Storage, clock: TickingClock
) -> AsyncIterator[httpx2.AsyncClient]:
    container = build_container(settings, storage.infra, clock=clock, cache=InMemoryCache())
    transport = httpx2.ASGITransport(app=create_app(settings, container=container))
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


class Counted:
    """Wraps a RenderedOnce's render function, counting the renders."""

    def __init__(self, of: Any) -> None:
        self.of, self.calls = of, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.of(*args, **kwargs)


@pytest.mark.parametrize("path", ["/api/articles/{slug}", "/api/profiles/jake"])
async def test_a_cached_anonymous_read_is_rendered_once(
    cached_client: httpx2.AsyncClient, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    client = cached_client
    jake = await register(client, "jake")
    url = path.format(slug=(await publish(client, jake))["slug"])
    rendered: dict[str, RenderedOnce[Any]] = {
        "articles": articles.RENDERED_ARTICLES,
        "profiles": profiles.RENDERED_PROFILES,
    }
    renders = {name: Counted(once._render) for name, once in rendered.items()}
    for name, once in rendered.items():
        monkeypatch.setattr(once, "_render", renders[name])
    first = await client.get(url)  # read and cached

    answers = [await client.get(url) for _ in range(3)]

    # the miss, then the first hit (the view the cache shares from then on)
    assert 1 <= sum(r.calls for r in renders.values()) <= 2
    assert {(a.content, a.headers["ETag"]) for a in answers} == {
        (first.content, first.headers["ETag"])
    }
    again = await client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.content) == (304, b"")


async def test_signed_in_readers_get_their_own_flags_around_cached_anonymous_reads(
    cached_client: httpx2.AsyncClient,
) -> None:
    client = cached_client
    jake, jane = await register(client, "jake"), await register(client, "jane")
    slug = (await publish(client, jake))["slug"]
    await favorite(client, jane, slug)
    await follow(client, jane, "jake")
    for _ in range(2):
        await client.get(f"/api/articles/{slug}")
        await client.get("/api/profiles/jake")

    janes_article = (await client.get(f"/api/articles/{slug}", headers=jane.auth)).json()
    janes_profile = (await client.get("/api/profiles/jake", headers=jane.auth)).json()
    anonymous_article = (await client.get(f"/api/articles/{slug}")).json()
    anonymous_profile = (await client.get("/api/profiles/jake")).json()

    assert janes_article["article"]["favorited"] is True
    assert janes_article["article"]["author"]["following"] is True
    assert janes_profile["profile"]["following"] is True
    assert anonymous_article["article"]["favorited"] is False
    assert anonymous_article["article"]["favoritesCount"] == 1
    assert anonymous_article["article"]["author"]["following"] is False
    assert anonymous_profile["profile"]["following"] is False


async def test_a_change_is_answered_after_cached_anonymous_reads(
    cached_client: httpx2.AsyncClient, storage: Storage
) -> None:
    client = cached_client
    jake, jane = await register(client, "jake"), await register(client, "jane")
    slug = (await publish(client, jake))["slug"]
    before = [await client.get(f"/api/articles/{slug}") for _ in range(2)][-1]
    profile_before = [await client.get("/api/profiles/jake") for _ in range(2)][-1]

    await favorite(client, jane, slug)
    await client.put("/api/user", json={"user": {"bio": "new bio"}}, headers=jake.auth)
    after = await client.get(f"/api/articles/{slug}")
    profile_after = await client.get("/api/profiles/jake")

    assert after.json()["article"]["favoritesCount"] == 1
    assert after.json()["article"]["author"]["bio"] == "new bio"
    assert after.headers["ETag"] != before.headers["ETag"]
    assert profile_after.json()["profile"]["bio"] == "new bio"
    assert profile_after.headers["ETag"] != profile_before.headers["ETag"]


async def test_the_cached_tag_list_is_rendered_once_and_follows_a_new_tag(
    cached_client: httpx2.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = cached_client
    jake = await register(client, "jake")
    await publish(client, jake, "One", tags=["dragons"])
    renders = Counted(articles.RENDERED_TAGS._render)
    monkeypatch.setattr(articles.RENDERED_TAGS, "_render", renders)
    first = await client.get("/api/tags")  # read and cached

    answers = [await client.get("/api/tags") for _ in range(3)]
    rendered = renders.calls
    await publish(client, jake, "Two", tags=["training"])
    after = await client.get("/api/tags")

    assert 1 <= rendered <= 2  # the miss, then the first hit
    assert {(a.content, a.headers["ETag"]) for a in answers} == {
        (first.content, first.headers["ETag"])
    }
    assert after.json() == {"tags": ["dragons", "training"]}
    assert after.headers["ETag"] != first.headers["ETag"]
