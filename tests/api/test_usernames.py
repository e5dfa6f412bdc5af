"""Usernames cannot impersonate: unique regardless of case and Unicode compatibility forms,
one script each, no look-alikes; profiles and author filters found regardless of case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx2
import pytest

from adapters.memory.cache import InMemoryCache
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.api.helpers import (
    Account,
    assert_error,
    favorite,
    list_articles,
    publish,
    register,
)
from tests.fakes.clock import TickingClock
from tests.infra import Storage

CYRILLIC_A = "\u0430"


def _new_user(username: str, email: str) -> dict[str, dict[str, str]]:
    return {"user": {"username": username, "email": email, "password": "p" * 8}}


async def test_admin_then_admin_in_another_case_or_with_a_cyrillic_a_registers_once(
    client: httpx2.AsyncClient,
) -> None:
    await register(client, "admin")

    other_case = await client.post("/api/users", json=_new_user("Admin", "a2@example.com"))
    cyrillic = await client.post(
        "/api/users", json=_new_user(f"{CYRILLIC_A}dmin", "a3@example.com")
    )

    assert assert_error(other_case, 422, "username") == {"username": ["has already been taken"]}
    assert other_case.json()["code"] == "conflict"
    assert assert_error(cyrillic, 422, "username") == {
        "username": ["must not mix letters of different scripts (such as Latin and Cyrillic)"]
    }
    # Neither was half-written: their emails have no account.
    for email in ("a2@example.com", "a3@example.com"):
        login = {"user": {"email": email, "password": "p" * 8}}
        assert (await client.post("/api/users/login", json=login)).status_code == 401


async def test_a_name_in_one_other_script_that_looks_like_a_taken_one_is_refused(
    client: httpx2.AsyncClient,
) -> None:
    await register(client, "ace")

    response = await client.post(
        "/api/users", json=_new_user("\u0430\u0441\u0435", "cyrillic@example.com")
    )

    assert assert_error(response, 422, "username") == {
        "username": ["is too similar to an existing username"]
    }


async def test_a_name_in_one_other_script_is_welcome(client: httpx2.AsyncClient) -> None:
    ivan = await register(client, "\u0418\u0432\u0430\u043d", email="ivan@example.com")

    response = await client.get(f"/api/profiles/{quote(ivan.username)}")

    assert response.json()["profile"]["username"] == "\u0418\u0432\u0430\u043d"


async def test_changing_the_username_to_anothers_in_another_case_is_refused(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    response = await client.put("/api/user", json={"user": {"username": "JANE"}}, headers=jake.auth)

    assert_error(response, 422, "username")


async def test_changing_only_the_case_of_the_own_username_is_allowed(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    response = await client.put("/api/user", json={"user": {"username": "Jake"}}, headers=jake.auth)

    assert response.status_code == 200, response.text
    profile = await client.get("/api/profiles/jake")
    assert profile.json()["profile"]["username"] == "Jake"


async def test_profile_follow_and_unfollow_find_the_user_regardless_of_case(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    profile = await client.get("/api/profiles/JANE")
    followed = await client.post("/api/profiles/Jane/follow", headers=jake.auth)
    seen = await client.get("/api/profiles/jAnE", headers=jake.auth)
    unfollowed = await client.delete("/api/profiles/JANE/follow", headers=jake.auth)

    assert profile.status_code == 200, profile.text
    assert profile.json()["profile"]["username"] == "jane"
    assert followed.json()["profile"] == {
        "username": "jane",
        "bio": "",
        "image": None,
        "following": True,
    }
    assert seen.json()["profile"]["following"] is True
    assert unfollowed.json()["profile"]["following"] is False


async def test_article_filters_find_the_author_and_the_fan_regardless_of_case(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    article = await publish(client, jake, "By jake")
    await favorite(client, jane, article["slug"])

    by_author = await list_articles(client, author="JAKE")
    favorited = await list_articles(client, favorited="Jane")

    assert [a["slug"] for a in by_author["articles"]] == [article["slug"]]
    assert [a["slug"] for a in favorited["articles"]] == [article["slug"]]


@pytest.fixture
async def cached_client(
    settings: Settings, storage: Storage, clock: TickingClock
) -> AsyncIterator[httpx2.AsyncClient]:
    container = build_container(settings, storage.infra, clock=clock, cache=InMemoryCache())
    transport = httpx2.ASGITransport(app=create_app(settings, container=container))
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_a_profile_asked_for_in_another_case_shows_its_owners_changes(
    cached_client: httpx2.AsyncClient,
) -> None:
    client = cached_client
    jake = await register(client, "jake")
    before = await client.get("/api/profiles/JAKE")  # now cached
    await client.put("/api/user", json={"user": {"bio": "new bio"}}, headers=jake.auth)

    after = await client.get("/api/profiles/JAKE")

    assert before.json()["profile"]["bio"] == ""
    assert after.json()["profile"]["bio"] == "new bio"
