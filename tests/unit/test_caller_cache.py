"""The caller cache (ProcessCallerCache) and Authenticate over it: what is kept, what is
forgotten, and the fill race a generation counter closes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from adapters.cache.callers import ProcessCallerCache
from core.auth.admin import ChangeUserAccess
from core.auth.authentication import Authenticate
from core.auth.errors import AccountDisabled, InvalidToken
from core.auth.tokens import LogOutEverywhere
from core.users.model import Actor, Role
from core.users.use_cases import UpdateUser, UpdateUserInput
from tests.builders import Fakes, a_user


class Ticking:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# The cache on its own


def test_a_stored_user_is_answered_until_forgotten() -> None:
    cache = ProcessCallerCache()
    user = a_user()
    cache.put(user, ticket_of(cache))
    assert cache.get(user.id) == user

    asyncio.run(cache.forget({user.id}))

    assert cache.get(user.id) is None


def test_a_fill_read_before_a_forget_is_not_stored() -> None:
    cache = ProcessCallerCache()
    user = a_user()
    ticket = ticket_of(cache)  # the lookup starts, reads the old row...
    asyncio.run(cache.forget({user.id}))  # ...the change commits...
    cache.put(user, ticket)  # ...and the old row comes back to be stored

    assert cache.get(user.id) is None


def test_a_fill_is_dropped_after_a_forget_of_another_user_too() -> None:
    cache = ProcessCallerCache()
    user, other = a_user(), a_user(username="other", email="other@x.io")
    ticket = ticket_of(cache)
    cache.drop({other.id})
    cache.put(user, ticket)
    assert cache.get(user.id) is None


def test_an_entry_expires_after_its_time_to_live() -> None:
    clock = Ticking()
    cache = ProcessCallerCache(ttl_s=10, clock=clock)
    user = a_user()
    cache.put(user, ticket_of(cache))
    clock.now = 9.9
    assert cache.get(user.id) == user
    clock.now = 10.0
    assert cache.get(user.id) is None


def test_the_oldest_entry_makes_room_when_full() -> None:
    cache = ProcessCallerCache(max_entries=2)
    users = [a_user(username=f"user{i}", email=f"u{i}@x.io") for i in range(3)]
    for user in users:
        cache.put(user, ticket_of(cache))
    assert len(cache) == 2
    assert cache.get(users[0].id) is None
    assert cache.get(users[2].id) == users[2]


def test_a_suspended_cache_is_empty_stores_nothing_and_voids_fills_in_flight() -> None:
    cache = ProcessCallerCache()
    user, late = a_user(), a_user(username="late", email="late@x.io")
    cache.put(user, ticket_of(cache))
    in_flight = ticket_of(cache)

    cache.suspend()  # the change signal is lost

    assert cache.get(user.id) is None
    assert cache.ticket() is None
    cache.put(late, in_flight)
    cache.resume()  # back: the fill from before the loss stays dropped
    assert cache.get(late.id) is None
    cache.put(user, ticket_of(cache))
    assert cache.get(user.id) == user


def test_a_cache_not_listening_yet_stores_nothing() -> None:
    cache = ProcessCallerCache(listening=False)
    assert cache.ticket() is None
    cache.resume()
    assert cache.ticket() is not None


def test_a_disabled_cache_never_stores_even_when_its_signal_is_up() -> None:
    cache = ProcessCallerCache(enabled=False)
    cache.resume()
    assert cache.ticket() is None


def test_forget_waits_for_the_signals_echo_while_listening() -> None:
    cache = ProcessCallerCache()
    echoed: list[object] = []

    async def echo(user_ids: Any) -> None:
        echoed.append(set(user_ids))

    cache.echo_with(echo)
    user = a_user()
    asyncio.run(cache.forget({user.id}))
    cache.suspend()
    asyncio.run(cache.forget({user.id}))  # nothing to wait for: the cache is bypassed
    assert echoed == [{user.id}]


def ticket_of(cache: ProcessCallerCache) -> int:
    ticket = cache.ticket()
    assert ticket is not None
    return ticket


# Authenticate over the cache (memory://: forgotten by the commit listener)


async def test_the_callers_account_is_read_once_then_answered_from_the_cache(
    fakes: Fakes, jake: Actor
) -> None:
    fakes.callers.resume()  # empty
    await fakes.build(Authenticate).execute(jake.token)
    cached = fakes.callers.get(jake.user_id)
    assert cached is not None
    assert cached.id == jake.user_id


async def test_a_deactivation_is_refused_on_the_next_request_after_a_cached_one(
    fakes: Fakes, jake: Actor, admin: Actor
) -> None:
    authenticate = fakes.build(Authenticate)
    await authenticate.execute(jake.token)

    await fakes.build(ChangeUserAccess).execute(admin, "jake", None, False)

    with pytest.raises((AccountDisabled, InvalidToken)):
        await authenticate.execute(jake.token)


async def test_a_role_change_applies_on_the_next_request_after_a_cached_one(
    fakes: Fakes, jake: Actor, admin: Actor
) -> None:
    authenticate = fakes.build(Authenticate)
    assert (await authenticate.execute(jake.token)).role is Role.USER

    await fakes.build(ChangeUserAccess).execute(admin, "jake", Role.MODERATOR, None)

    assert (await authenticate.execute(jake.token)).role is Role.MODERATOR


async def test_logging_out_everywhere_ends_a_cached_token_at_once(
    fakes: Fakes, jake: Actor
) -> None:
    authenticate = fakes.build(Authenticate)
    await authenticate.execute(jake.token)

    await fakes.build(LogOutEverywhere).execute(jake)

    with pytest.raises(InvalidToken):
        await authenticate.execute(jake.token)


async def test_a_profile_update_refreshes_the_cached_account(fakes: Fakes, jake: Actor) -> None:
    await fakes.build(Authenticate).execute(jake.token)

    await fakes.build(UpdateUser).execute(jake, UpdateUserInput(bio="new bio"))

    assert fakes.callers.get(jake.user_id) is None


class PausingReads:
    """The fakes' unit of work, holding each read-only unit after its read until `go_on`."""

    def __init__(self, fakes: Fakes) -> None:
        self._inner = fakes.uow
        self.read = asyncio.Event()
        self.go_on = asyncio.Event()

    @asynccontextmanager
    async def begin(self, *, read_only: bool = False) -> AsyncIterator[Any]:
        async with self._inner.begin(read_only=read_only) as tx:
            yield tx
        if read_only:
            self.read.set()
            await self.go_on.wait()


async def test_a_lookup_that_read_the_row_before_a_deactivation_does_not_cache_it(
    fakes: Fakes, jake: Actor, admin: Actor
) -> None:
    fakes.callers.resume()  # empty: the lookup below reads the database
    reads = PausingReads(fakes)
    racing = Authenticate(reads, fakes.tokens, fakes.clock, fakes.policy, fakes.callers)
    lookup = asyncio.create_task(racing.execute(jake.token))
    async with asyncio.timeout(5):
        await reads.read.wait()  # it has read jake's row, active, and not stored it yet

    await fakes.build(ChangeUserAccess).execute(admin, "jake", None, False)
    reads.go_on.set()

    assert (await lookup).user_id == jake.user_id  # it began before the change: served
    assert fakes.callers.get(jake.user_id) is None  # but its row was not kept
    with pytest.raises((AccountDisabled, InvalidToken)):
        await fakes.build(Authenticate).execute(jake.token)


@pytest.fixture
async def admin(fakes: Fakes) -> Actor:
    actor = await fakes.register("root", email="root@x.io")
    async with fakes.uow.begin() as tx:
        await tx.users.set_access(actor.user_id, role=Role.ADMIN, active=True)
        await tx.commit()
    return await fakes.build(Authenticate).execute(actor.token)
