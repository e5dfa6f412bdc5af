"""LoginLimits and address_of: who gets refused after failed logins, and who never is.

Wired to the in-memory counters on a fake clock (tests.builders.Fakes), with small limits.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.auth.errors import InvalidCredentials, TooManyAttempts
from core.auth.login_limits import LoginLimits, address_of
from core.auth.model import AuthPolicy, digest
from core.auth.sessions import PasswordCheck
from core.users.model import Actor
from tests.builders import PASSWORD, Fakes

OWNER_HOME = "192.0.2.10"
EMAIL = "jake@example.com"
POLICY = AuthPolicy(
    max_failures_per_pair=3,
    max_failures_per_address=6,
    failure_window=timedelta(minutes=15),
    max_failures_per_account=10,
    account_failure_window=timedelta(hours=1),
    known_address_ttl=timedelta(days=30),
)


@pytest.fixture
def fakes() -> Fakes:
    return Fakes(policy=POLICY)


@pytest.fixture
def check(fakes: Fakes) -> PasswordCheck:
    return fakes.build(PasswordCheck)


async def fail(
    check: PasswordCheck, client: str | None, times: int = 1, email: str = EMAIL
) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            await check.check(email, "wrong password", client)


async def attack(check: PasswordCheck, addresses: int) -> None:
    """One wrong password from each of many addresses; past the ceiling they are refused."""
    for i in range(addresses):
        with pytest.raises((InvalidCredentials, TooManyAttempts)):
            await check.check(EMAIL, "wrong password", attacker(i))


async def refused(check: PasswordCheck, client: str | None, email: str = EMAIL) -> int:
    with pytest.raises(TooManyAttempts) as caught:
        await check.check(email, PASSWORD, client)
    return caught.value.retry_after_s


def attacker(i: int) -> str:
    return f"203.0.113.{i}"


# the (account, address) pair


async def test_a_pair_is_refused_past_its_limit_even_with_the_right_password(
    check: PasswordCheck, jake: Actor
) -> None:
    await fail(check, OWNER_HOME, 3)
    retry_after = await refused(check, OWNER_HOME)
    assert 0 < retry_after <= 15 * 60


async def test_a_pair_past_its_limit_leaves_the_account_open_from_other_addresses(
    check: PasswordCheck, jake: Actor
) -> None:
    await fail(check, attacker(1), 3)
    assert (await check.check(EMAIL, PASSWORD, OWNER_HOME)).email == EMAIL


async def test_a_success_forgets_the_pairs_failures(check: PasswordCheck, jake: Actor) -> None:
    await fail(check, OWNER_HOME, 2)
    await check.check(EMAIL, PASSWORD, OWNER_HOME)
    await fail(check, OWNER_HOME, 2)
    assert (await check.check(EMAIL, PASSWORD, OWNER_HOME)).email == EMAIL


async def test_a_pair_is_let_in_again_when_its_window_ends(
    fakes: Fakes, check: PasswordCheck, jake: Actor
) -> None:
    await fail(check, OWNER_HOME, 3)
    await refused(check, OWNER_HOME)
    fakes.clock.advance(15 * 60)
    assert (await check.check(EMAIL, PASSWORD, OWNER_HOME)).email == EMAIL


# the address, across accounts


async def test_an_address_spraying_accounts_is_refused_past_its_limit(
    fakes: Fakes, check: PasswordCheck, jake: Actor
) -> None:
    for i in range(3):
        await fail(check, attacker(1), 2, email=f"victim{i}@example.com")
    await refused(check, attacker(1))  # jake's pair from there has no failure
    assert (await check.check(EMAIL, PASSWORD, OWNER_HOME)).email == EMAIL


async def test_a_success_does_not_reset_the_address_counter(
    fakes: Fakes, check: PasswordCheck, jake: Actor
) -> None:
    # An attacker could otherwise clear their address with an account of their own.
    await fakes.register("mallory")
    for i in range(3):
        await fail(check, attacker(1), 2, email=f"victim{i}@example.com")
    await refused(check, attacker(1), email="mallory@example.com")


async def test_unknown_emails_count_against_the_address(check: PasswordCheck, jake: Actor) -> None:
    for i in range(6):
        await fail(check, attacker(1), email=f"ghost{i}@example.com")
    await refused(check, attacker(1))


# the account's ceiling, and the known addresses that pass it


async def test_failures_from_many_addresses_do_not_lock_the_owner_out_at_home(
    check: PasswordCheck, jake: Actor
) -> None:
    await check.check(EMAIL, PASSWORD, OWNER_HOME)  # home is a known address from now on
    await attack(check, 25)  # past the account's ceiling (10)
    assert (await check.check(EMAIL, PASSWORD, OWNER_HOME)).email == EMAIL


async def test_past_the_account_ceiling_an_unknown_address_is_refused(
    check: PasswordCheck, jake: Actor
) -> None:
    await check.check(EMAIL, PASSWORD, OWNER_HOME)
    for i in range(10):
        await fail(check, attacker(i), 1)
    retry_after = await refused(check, "198.51.100.7")
    assert 15 * 60 < retry_after <= 60 * 60  # the account's window, not the pair's


async def test_below_the_account_ceiling_an_unknown_address_gets_in(
    check: PasswordCheck, jake: Actor
) -> None:
    for i in range(9):
        await fail(check, attacker(i), 1)
    assert (await check.check(EMAIL, PASSWORD, "198.51.100.7")).email == EMAIL


async def test_the_account_ceiling_lifts_when_its_window_ends(
    fakes: Fakes, check: PasswordCheck, jake: Actor
) -> None:
    for i in range(10):
        await fail(check, attacker(i), 1)
    await refused(check, "198.51.100.7")
    fakes.clock.advance(60 * 60)
    assert (await check.check(EMAIL, PASSWORD, "198.51.100.7")).email == EMAIL


async def test_a_known_address_is_forgotten_after_its_time(
    fakes: Fakes, check: PasswordCheck, jake: Actor
) -> None:
    await check.check(EMAIL, PASSWORD, OWNER_HOME)
    fakes.clock.advance(30 * 86_400)
    for i in range(10):
        await fail(check, attacker(i), 1)
    await refused(check, OWNER_HOME)


async def test_each_success_renews_a_known_address(
    fakes: Fakes, check: PasswordCheck, jake: Actor
) -> None:
    await check.check(EMAIL, PASSWORD, OWNER_HOME)
    fakes.clock.advance(20 * 86_400)
    await check.check(EMAIL, PASSWORD, OWNER_HOME)
    fakes.clock.advance(20 * 86_400)
    for i in range(10):
        await fail(check, attacker(i), 1)
    assert (await check.check(EMAIL, PASSWORD, OWNER_HOME)).email == EMAIL


async def test_a_known_address_still_has_its_pair_limit(check: PasswordCheck, jake: Actor) -> None:
    await check.check(EMAIL, PASSWORD, OWNER_HOME)
    await fail(check, OWNER_HOME, 3)
    await refused(check, OWNER_HOME)


async def test_a_failed_login_does_not_make_an_address_known(
    check: PasswordCheck, jake: Actor
) -> None:
    await fail(check, attacker(1), 1)
    for i in range(2, 11):  # 10 failures in all: the account's ceiling
        await fail(check, attacker(i), 1)
    await refused(check, attacker(1))


async def test_a_deactivated_accounts_right_password_does_not_make_an_address_known(
    fakes: Fakes, check: PasswordCheck, jake: Actor
) -> None:
    async with fakes.uow.begin() as tx:
        await tx.users.set_access(jake.user_id, role=jake.role, active=False)
        await tx.commit()
    with pytest.raises(InvalidCredentials):
        await check.check(EMAIL, PASSWORD, OWNER_HOME)
    assert await fakes.known.is_known(digest(EMAIL), OWNER_HOME) is False


async def test_without_a_peer_address_only_the_account_ceiling_applies(
    check: PasswordCheck, jake: Actor
) -> None:
    await fail(check, None, 9)
    assert (await check.check(EMAIL, PASSWORD, None)).email == EMAIL
    await fail(check, None, 1)
    await refused(check, None)


async def test_the_email_is_counted_regardless_of_case_and_spaces(
    check: PasswordCheck, jake: Actor
) -> None:
    await fail(check, attacker(1), 2)
    await fail(check, attacker(1), 1, email="  JAKE@Example.com ")
    await refused(check, attacker(1))


async def test_a_refused_attempt_is_not_counted(fakes: Fakes, check: PasswordCheck) -> None:
    await fail(check, attacker(1), 3)
    for _ in range(5):
        await refused(check, attacker(1))
    [(count, _)] = await fakes.attempts.status([f"login:addr:{attacker(1)}"])
    assert count == 3


# what counts as the address


@pytest.mark.parametrize(
    ("client", "address"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("2001:db8:1:2:a:b:c:d", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:ffff::9", "2001:db8:1:2::/64"),
        ("testclient", "testclient"),
        ("", None),
        (None, None),
    ],
)
def test_address_of(client: str | None, address: str | None) -> None:
    assert address_of(client) == address


async def test_ipv6_addresses_of_one_64_share_their_counters(
    check: PasswordCheck, jake: Actor
) -> None:
    for host in ("::1", "::2", "::3"):
        await fail(check, f"2001:db8:7:7{host}", 1)
    await refused(check, "2001:db8:7:7::4")
    assert (await check.check(EMAIL, PASSWORD, "2001:db8:7:8::1")).email == EMAIL


def test_the_limits_are_a_collaborator_built_from_ports(fakes: Fakes) -> None:
    assert isinstance(fakes.build(LoginLimits), LoginLimits)
