"""Deactivation is final for old credentials: access tokens, API keys and refresh tokens from
before it stay dead after a reactivation, and a deactivated account's login fails exactly like
a wrong password, whichever password is sent."""

from __future__ import annotations

from typing import Any

import httpx2
import punq
import pytest

from tests.security.conftest import (
    PASSWORD,
    Account,
    assert_error,
    login,
    make_admin,
    new_api_key,
    password_grant,
    refresh,
    register,
    set_access,
)


async def deactivate_and_reactivate(client: httpx2.AsyncClient, admin: Account, name: str) -> None:
    assert (await set_access(client, admin, name, active=False)).status_code == 200
    assert (await set_access(client, admin, name, active=True)).status_code == 200


def comparable(response: httpx2.Response) -> tuple[int, Any, str | None]:
    body = response.json()
    body.pop("requestId", None)  # differs per request by design
    return response.status_code, body, response.headers.get("WWW-Authenticate")


async def test_an_access_token_from_before_a_deactivation_stays_dead_after_reactivation(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    admin = await make_admin(client, container, "root")
    jake = await register(client, "jake")
    await deactivate_and_reactivate(client, admin, "jake")
    assert_error(await client.get("/api/user", headers=jake.auth), 401)
    fresh = await login(client, jake.email)  # the owner logs in again and is let in
    assert fresh.status_code == 200, fresh.text
    new_auth = {"Authorization": f"Token {fresh.json()['user']['token']}"}
    assert (await client.get("/api/user", headers=new_auth)).status_code == 200


async def test_an_oauth_access_token_from_before_a_deactivation_stays_dead(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    admin = await make_admin(client, container, "root")
    jake = await register(client, "jake")
    granted = (await password_grant(client, jake.email)).json()
    await deactivate_and_reactivate(client, admin, "jake")
    bearer = {"Authorization": f"Bearer {granted['access_token']}"}
    assert_error(await client.get("/api/user", headers=bearer), 401)
    assert (await refresh(client, granted["refresh_token"])).status_code == 400


async def test_an_api_key_from_before_a_deactivation_stays_revoked_after_reactivation(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    admin = await make_admin(client, container, "root")
    jake = await register(client, "jake")
    old_key = await new_api_key(client, jake, "feed:read")
    await deactivate_and_reactivate(client, admin, "jake")
    assert_error(await client.get("/api/articles/feed", headers={"X-API-Key": old_key}), 401)
    owner = Account("jake", jake.email, (await login(client, jake.email)).json()["user"]["token"])
    assert (await client.get("/api/user/api-keys", headers=owner.auth)).json()["apiKeys"] == []
    new_key = await new_api_key(client, owner, "feed:read")  # the owner makes a new one
    response = await client.get("/api/articles/feed", headers={"X-API-Key": new_key})
    assert response.status_code == 200, response.text


async def test_deactivating_leaves_other_users_credentials_alone(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    admin = await make_admin(client, container, "root")
    await register(client, "jake")
    anna = await register(client, "anna")
    key = await new_api_key(client, anna, "feed:read")
    await deactivate_and_reactivate(client, admin, "jake")
    assert (await client.get("/api/user", headers=anna.auth)).status_code == 200
    assert (await client.get("/api/articles/feed", headers={"X-API-Key": key})).status_code == 200


async def test_a_deactivated_account_answers_login_as_a_wrong_password_does(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    admin = await make_admin(client, container, "root")
    jake = await register(client, "jake")
    anna = await register(client, "anna")
    wrong_for_active = comparable(await login(client, anna.email, "wrong password"))
    await set_access(client, admin, "jake", active=False)
    right = await login(client, jake.email, PASSWORD)
    wrong = await login(client, jake.email, "wrong password")
    assert_error(right, 401)
    assert comparable(right) == comparable(wrong) == wrong_for_active


async def test_a_deactivated_account_answers_the_password_grant_as_a_wrong_password_does(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    admin = await make_admin(client, container, "root")
    jake = await register(client, "jake")
    anna = await register(client, "anna")
    wrong_for_active = await password_grant(client, anna.email, "wrong password")
    await set_access(client, admin, "jake", active=False)
    right = await password_grant(client, jake.email, PASSWORD)
    wrong = await password_grant(client, jake.email, "wrong password")
    assert right.status_code == 400
    assert right.json() == wrong.json() == wrong_for_active.json()


@pytest.mark.parametrize("password", [PASSWORD, "wrong password"])
async def test_logins_to_a_deactivated_account_count_as_failures(
    client: httpx2.AsyncClient, container: punq.Container, password: str
) -> None:
    # Were only wrong passwords counted, the 429 arriving later for the right one would tell
    # a guesser that it was right.
    admin = await make_admin(client, container, "root")
    jake = await register(client, "jake")
    await set_access(client, admin, "jake", active=False)
    statuses = [(await login(client, jake.email, password)).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
