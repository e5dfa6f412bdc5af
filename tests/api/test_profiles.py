"""Profiles and following: /profiles/{username}, /profiles/{username}/follow."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.api.helpers import MEMORY_ONLY, PROFILE_KEYS, Account, assert_error, register


async def _profile(
    client: httpx2.AsyncClient, username: str, viewer: Account | None = None
) -> dict[str, Any]:
    response = await client.get(f"/api/profiles/{username}", headers=viewer.auth if viewer else {})
    assert response.status_code == 200, response.text
    profile: dict[str, Any] = response.json()["profile"]
    return profile


@MEMORY_ONLY
async def test_get_profile_answers_the_public_profile_without_a_token(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    response = await client.get("/api/profiles/jake")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "profile": {"username": "jake", "bio": "", "image": None, "following": False}
    }


@MEMORY_ONLY
async def test_follow_answers_the_profile_with_following_true(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    response = await client.post("/api/profiles/jane/follow", headers=jake.auth)

    assert response.status_code == 200, response.text
    profile = response.json()["profile"]
    assert set(profile) == PROFILE_KEYS
    assert (profile["username"], profile["following"]) == ("jane", True)


async def test_following_is_exact_for_each_viewer_and_false_anonymously(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    bob = await register(client, "bob")
    await client.post("/api/profiles/jane/follow", headers=jake.auth)

    assert (await _profile(client, "jane", jake))["following"] is True
    assert (await _profile(client, "jane", bob))["following"] is False
    assert (await _profile(client, "jane"))["following"] is False
    # Following is one-way.
    assert (await _profile(client, "jake", jane))["following"] is False


async def test_following_is_false_when_viewing_oneself(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    assert (await _profile(client, "jake", jake))["following"] is False


async def test_follow_is_idempotent(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    first = await client.post("/api/profiles/jane/follow", headers=jake.auth)
    second = await client.post("/api/profiles/jane/follow", headers=jake.auth)

    assert first.status_code == second.status_code == 200
    assert second.json()["profile"]["following"] is True
    await client.delete("/api/profiles/jane/follow", headers=jake.auth)
    assert (await _profile(client, "jane", jake))["following"] is False


async def test_unfollow_answers_the_profile_with_following_false(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await client.post("/api/profiles/jane/follow", headers=jake.auth)

    response = await client.delete("/api/profiles/jane/follow", headers=jake.auth)

    assert response.status_code == 200, response.text
    assert response.json()["profile"] == {
        "username": "jane",
        "bio": "",
        "image": None,
        "following": False,
    }
    assert (await _profile(client, "jane", jake))["following"] is False


@MEMORY_ONLY
async def test_unfollow_is_idempotent_when_not_following(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    response = await client.delete("/api/profiles/jane/follow", headers=jake.auth)

    assert response.status_code == 200, response.text
    assert response.json()["profile"]["following"] is False


@MEMORY_ONLY
async def test_profile_shows_the_bio_and_image_set_by_its_owner(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    change = {"bio": "I work at statefarm", "image": "https://example.com/jake.jpg"}
    await client.put("/api/user", json={"user": change}, headers=jake.auth)

    profile = await _profile(client, "jake")

    assert (profile["bio"], profile["image"]) == (change["bio"], change["image"])


@MEMORY_ONLY
async def test_follow_oneself_is_refused_with_422(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    response = await client.post("/api/profiles/jake/follow", headers=jake.auth)

    assert_error(response, 422, "body")
    assert (await _profile(client, "jake", jake))["following"] is False


@MEMORY_ONLY
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/profiles/nobody"),
        ("POST", "/api/profiles/nobody/follow"),
        ("DELETE", "/api/profiles/nobody/follow"),
    ],
)
async def test_unknown_username_is_404(
    client: httpx2.AsyncClient, jake: Account, method: str, path: str
) -> None:
    response = await client.request(method, path, headers=jake.auth)

    assert_error(response, 404, "body")


@MEMORY_ONLY
class TestFollowAuthentication:
    @pytest.mark.parametrize("method", ["POST", "DELETE"])
    async def test_follow_and_unfollow_require_a_token(
        self, client: httpx2.AsyncClient, jake: Account, method: str
    ) -> None:
        response = await client.request(method, "/api/profiles/jake/follow")

        assert_error(response, 401, "body")
        assert response.headers["WWW-Authenticate"] == "Token"

    async def test_username_longer_than_the_maximum_is_422(
        self, client: httpx2.AsyncClient
    ) -> None:
        response = await client.get("/api/profiles/" + "x" * 41)

        assert_error(response, 422, "username")
