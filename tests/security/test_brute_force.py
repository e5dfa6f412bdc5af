"""Failed logins through HTTP: limits per (account, address) pair and per address, an account
ceiling that the owner's usual address passes, 429 + Retry-After past them, and windows that
end (on the test's fake clock).

The settings in tests/security/conftest.py allow 3 failures per pair, 6 per address (15
minutes) and 10 per account (an hour). The default client's address is 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx2
import pytest
from fastapi import FastAPI

from tests.fakes.clock import FakeClock
from tests.security.conftest import PASSWORD, assert_error, login, password_grant, register

HOME = "192.0.2.10"  # the owner's usual address
ClientAt = Callable[[str], AbstractAsyncContextManager[httpx2.AsyncClient]]


@pytest.fixture
def client_at(app: FastAPI) -> ClientAt:
    """A client of the same app whose requests come from `address`."""

    @asynccontextmanager
    async def open_client(address: str) -> AsyncIterator[httpx2.AsyncClient]:
        transport = httpx2.ASGITransport(app=app, client=(address, 50_000))
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http

    return open_client


async def fail(client: httpx2.AsyncClient, email: str, times: int) -> None:
    for _ in range(times):
        assert (await login(client, email, "wrong password")).status_code == 401


def assert_too_many(response: httpx2.Response) -> int:
    assert_error(response, 429)
    assert response.json()["code"] == "rate_limited"
    retry_after = int(response.headers["Retry-After"])
    assert retry_after > 0
    return retry_after


async def attack(client_at: ClientAt, email: str, addresses: int) -> list[int]:
    """One wrong password from each of `addresses` addresses; the statuses answered."""
    statuses = []
    for i in range(addresses):
        async with client_at(f"203.0.113.{i}") as attacker:
            statuses.append((await login(attacker, email, "wrong password")).status_code)
    return statuses


# the pair


async def test_a_pair_is_locked_after_too_many_failures(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    await fail(client, jake.email, 3)
    retry_after = assert_too_many(await login(client, jake.email, PASSWORD))  # even so
    assert retry_after <= 15 * 60


async def test_the_token_endpoint_shares_the_limits(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    await fail(client, jake.email, 3)
    response = await password_grant(client, jake.email)
    assert response.status_code == 429
    assert "Retry-After" in response.headers


async def test_a_success_resets_the_pair_counter(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    await fail(client, jake.email, 2)
    assert (await login(client, jake.email)).status_code == 200
    await fail(client, jake.email, 2)
    assert (await login(client, jake.email)).status_code == 200


async def test_failures_from_one_address_leave_the_owner_in_from_another(
    client: httpx2.AsyncClient, client_at: ClientAt
) -> None:
    jake = await register(client, "jake")
    async with client_at("203.0.113.1") as attacker:
        statuses = [(await login(attacker, jake.email, "wrong")).status_code for _ in range(12)]
    assert statuses == [401] * 3 + [429] * 9
    async with client_at("198.51.100.20") as owner:  # not even a known address
        assert (await login(owner, jake.email)).status_code == 200


async def test_a_pair_is_let_in_again_when_its_window_ends(
    client: httpx2.AsyncClient, clock: FakeClock
) -> None:
    jake = await register(client, "jake")
    await fail(client, jake.email, 3)
    assert_too_many(await login(client, jake.email))
    clock.advance(15 * 60)
    assert (await login(client, jake.email)).status_code == 200


# the address


async def test_one_address_spraying_many_accounts_is_stopped(client: httpx2.AsyncClient) -> None:
    names = [f"user{i}" for i in range(4)]
    accounts = [await register(client, name) for name in names]
    for account in accounts[:3]:
        await fail(client, account.email, 2)  # 6 failures from one address, 2 per account
    assert_too_many(await login(client, accounts[3].email))


async def test_unknown_emails_count_against_the_address_too(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    for i in range(6):
        assert (await login(client, f"ghost{i}@example.com", "x" * 10)).status_code == 401
    assert_too_many(await login(client, jake.email))


# the account's ceiling and the owner's usual address


async def test_an_attacker_from_many_addresses_does_not_lock_the_owner_out_at_home(
    client: httpx2.AsyncClient, client_at: ClientAt
) -> None:
    jake = await register(client, "jake")
    async with client_at(HOME) as home:
        assert (await login(home, jake.email)).status_code == 200  # a usual address now
    statuses = await attack(client_at, jake.email, 25)
    assert statuses == [401] * 10 + [429] * 15  # the account's ceiling stops the guessing
    async with client_at(HOME) as home:
        assert (await login(home, jake.email)).status_code == 200
        assert (await password_grant(home, jake.email)).status_code == 200


async def test_past_the_account_ceiling_an_unknown_address_is_refused(
    client: httpx2.AsyncClient, client_at: ClientAt
) -> None:
    jake = await register(client, "jake")
    async with client_at(HOME) as home:
        assert (await login(home, jake.email)).status_code == 200
    await attack(client_at, jake.email, 10)
    async with client_at("198.51.100.20") as elsewhere:
        retry_after = assert_too_many(await login(elsewhere, jake.email))  # right password
    assert 15 * 60 < retry_after <= 60 * 60


async def test_the_account_ceiling_lifts_when_its_window_ends(
    client: httpx2.AsyncClient, client_at: ClientAt, clock: FakeClock
) -> None:
    jake = await register(client, "jake")
    await attack(client_at, jake.email, 10)
    async with client_at("198.51.100.20") as elsewhere:
        assert_too_many(await login(elsewhere, jake.email))
        clock.advance(60 * 60)
        assert (await login(elsewhere, jake.email)).status_code == 200


async def test_a_usual_address_is_forgotten_after_30_days(
    client: httpx2.AsyncClient, client_at: ClientAt, clock: FakeClock
) -> None:
    jake = await register(client, "jake")
    async with client_at(HOME) as home:
        assert (await login(home, jake.email)).status_code == 200
        clock.advance(30 * 86_400)
        await attack(client_at, jake.email, 10)
        assert_too_many(await login(home, jake.email))
