"""Failed logins are counted per account and per address; past the limit: 429 + Retry-After.

The settings in tests/security/conftest.py set 3 failures per account, 6 per address.
"""

from __future__ import annotations

import httpx2

from tests.security.conftest import PASSWORD, assert_error, login, password_grant, register


async def fail(client: httpx2.AsyncClient, email: str, times: int) -> None:
    for _ in range(times):
        assert (await login(client, email, "wrong password")).status_code == 401


async def test_an_account_is_locked_after_too_many_failures(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    await fail(client, jake.email, 3)
    response = await login(client, jake.email, PASSWORD)  # even the right password
    assert_error(response, 429)
    assert int(response.headers["Retry-After"]) > 0


async def test_the_token_endpoint_shares_the_limit(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    await fail(client, jake.email, 3)
    response = await password_grant(client, jake.email)
    assert response.status_code == 429
    assert "Retry-After" in response.headers


async def test_a_success_resets_the_account_counter(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    await fail(client, jake.email, 2)
    assert (await login(client, jake.email)).status_code == 200
    await fail(client, jake.email, 2)
    assert (await login(client, jake.email)).status_code == 200


async def test_one_address_spraying_many_accounts_is_stopped(client: httpx2.AsyncClient) -> None:
    names = [f"user{i}" for i in range(4)]
    accounts = [await register(client, name) for name in names]
    for account in accounts[:3]:
        await fail(client, account.email, 2)  # 6 failures from one address, 2 per account
    assert_error(await login(client, accounts[3].email), 429)


async def test_unknown_emails_count_against_the_address_too(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    for i in range(6):
        assert (await login(client, f"ghost{i}@example.com", "x" * 10)).status_code == 401
    assert_error(await login(client, jake.email), 429)
