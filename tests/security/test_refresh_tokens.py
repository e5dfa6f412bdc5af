"""The OAuth2 token endpoint: grants, rotation, reuse detection, races and revocation."""

from __future__ import annotations

import asyncio

import httpx2
import punq
import pytest

from core.auth.model import digest
from tests.infra import Storage
from tests.security.conftest import (
    PASSWORD,
    assert_error,
    make_admin,
    password_grant,
    refresh,
    register,
    set_access,
)


def assert_oauth_error(response: httpx2.Response, code: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["error_description"], str)
    assert response.headers["Cache-Control"] == "no-store"


async def test_the_password_grant_answers_an_rfc_6749_token_response(
    client: httpx2.AsyncClient,
) -> None:
    jake = await register(client, "jake")
    response = await password_grant(client, jake.email)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert response.headers["Cache-Control"] == "no-store"
    me = await client.get("/api/user", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["user"]["username"] == "jake"


async def test_a_refresh_returns_a_new_pair_and_retires_the_old_refresh_token(
    client: httpx2.AsyncClient,
) -> None:
    jake = await register(client, "jake")
    first = (await password_grant(client, jake.email)).json()
    second = await refresh(client, first["refresh_token"])
    assert second.status_code == 200, second.text
    assert second.json()["refresh_token"] != first["refresh_token"]
    third = await refresh(client, second.json()["refresh_token"])
    assert third.status_code == 200, third.text


async def test_reusing_a_retired_refresh_token_revokes_the_whole_family(
    client: httpx2.AsyncClient,
) -> None:
    jake = await register(client, "jake")
    first = (await password_grant(client, jake.email)).json()["refresh_token"]
    second = (await refresh(client, first)).json()["refresh_token"]
    assert_oauth_error(await refresh(client, first), "invalid_grant")
    # the descendant issued before the reuse is dead too
    assert_oauth_error(await refresh(client, second), "invalid_grant")


async def test_another_login_family_survives_a_reuse_elsewhere(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    laptop = (await password_grant(client, jake.email)).json()["refresh_token"]
    phone = (await password_grant(client, jake.email)).json()["refresh_token"]
    await refresh(client, laptop)
    await refresh(client, laptop)  # reuse: revokes the laptop family only
    assert (await refresh(client, phone)).status_code == 200


async def test_two_racing_refreshes_with_one_token_do_not_both_succeed(
    client: httpx2.AsyncClient,
) -> None:
    jake = await register(client, "jake")
    token = (await password_grant(client, jake.email)).json()["refresh_token"]
    results = await asyncio.gather(*(refresh(client, token) for _ in range(2)))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 400], [r.text for r in results]
    # the loser counts as reuse: the winner's new refresh token is revoked with the family
    winner = next(r for r in results if r.status_code == 200).json()["refresh_token"]
    assert_oauth_error(await refresh(client, winner), "invalid_grant")


async def test_revocation_revokes_the_family_and_always_answers_200(
    client: httpx2.AsyncClient,
) -> None:
    jake = await register(client, "jake")
    token = (await password_grant(client, jake.email)).json()["refresh_token"]
    response = await client.post("/api/auth/revoke", data={"token": token})
    assert response.status_code == 200
    assert_oauth_error(await refresh(client, token), "invalid_grant")
    for junk in ({"token": "never-issued"}, {}, {"token": "x" * 10_000}):
        assert (await client.post("/api/auth/revoke", data=junk)).status_code == 200


async def test_logout_everywhere_revokes_refresh_tokens(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    token = (await password_grant(client, jake.email)).json()["refresh_token"]
    assert (await client.post("/api/auth/logout-all", headers=jake.auth)).status_code == 204
    assert_oauth_error(await refresh(client, token), "invalid_grant")


async def test_a_deactivated_user_cannot_refresh_or_get_tokens(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    admin = await make_admin(client, container, "root")
    jake = await register(client, "jake")
    token = (await password_grant(client, jake.email)).json()["refresh_token"]
    await set_access(client, admin, "jake", active=False)
    assert_oauth_error(await refresh(client, token), "invalid_grant")
    assert_oauth_error(await password_grant(client, jake.email), "invalid_grant")


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"grant_type": "password", "username": "jake@example.com"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "garbage"}, "invalid_grant"),
        ({"grant_type": "refresh_token", "refresh_token": "x" * 5000}, "invalid_grant"),
        (
            {"grant_type": "password", "username": "jake@example.com", "password": "wrong-pw"},
            "invalid_grant",
        ),
        (
            {"grant_type": "password", "username": "nobody@example.com", "password": PASSWORD},
            "invalid_grant",
        ),
    ],
)
async def test_bad_token_requests_get_rfc_6749_errors(
    client: httpx2.AsyncClient, form: dict[str, str], code: str
) -> None:
    await register(client, "jake")
    assert_oauth_error(await client.post("/api/auth/token", data=form), code)


async def test_refresh_tokens_are_stored_hashed(
    client: httpx2.AsyncClient, storage: Storage
) -> None:
    jake = await register(client, "jake")
    token = (await password_grant(client, jake.email)).json()["refresh_token"]
    if storage.memory is not None:
        stored = [t.token_hash for t in storage.memory.state.refresh_tokens.values()]
    else:
        from sqlalchemy import text

        assert storage.engine is not None
        async with storage.engine.connect() as conn:
            stored = list(
                (await conn.execute(text("SELECT token_hash FROM refresh_tokens"))).scalars()
            )
    assert stored == [digest(token)]
    assert token not in stored


async def test_logout_everywhere_needs_a_session(client: httpx2.AsyncClient) -> None:
    assert_error(await client.post("/api/auth/logout-all"), 401)
