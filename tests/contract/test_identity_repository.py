"""IdentityRepository contract (core/identities/ports.py) on memory, SQLite and Postgres."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from core.identities.errors import IdentityTaken
from core.identities.model import Identity
from core.users.model import User
from entrypoints.container import AppUnitOfWork
from tests.builders import WHEN, a_user
from tests.contract.seed import store


def an_identity(
    user: User, subject: str = "sub-1", *, issuer: str = "https://id.example", seconds: int = 0
) -> Identity:
    return Identity(
        uuid.uuid4(),
        user.id,
        "acme",
        issuer,
        subject,
        user.email,
        WHEN + timedelta(seconds=seconds),
    )


async def add(uow: AppUnitOfWork, *identities: Identity) -> None:
    async with uow.begin() as tx:
        for identity in identities:
            await tx.identities.add(identity)
        await tx.commit()


async def test_an_added_identity_is_found_by_issuer_and_subject(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    identity = an_identity(jake)
    await add(uow, identity)

    async with uow.begin(read_only=True) as tx:
        assert await tx.identities.get("https://id.example", "sub-1") == identity
        assert await tx.identities.get("https://other.example", "sub-1") is None
        assert await tx.identities.get("https://id.example", "sub-2") is None


async def test_one_subject_links_to_one_account(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    await add(uow, an_identity(jake))

    with pytest.raises(IdentityTaken):
        await add(uow, an_identity(jane))
    async with uow.begin(read_only=True) as tx:
        assert await tx.identities.list_for_user(jane.id) == []


async def test_the_same_subject_of_another_issuer_is_another_identity(
    uow: AppUnitOfWork,
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)

    await add(uow, an_identity(jake), an_identity(jane, issuer="https://other.example"))

    async with uow.begin(read_only=True) as tx:
        assert len(await tx.identities.list_for_user(jane.id)) == 1


async def test_a_users_identities_are_listed_oldest_first_and_only_theirs(
    uow: AppUnitOfWork,
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    newer, older = an_identity(jake, "b", seconds=5), an_identity(jake, "a", seconds=1)
    await add(uow, newer, older, an_identity(jane, "c"))

    async with uow.begin(read_only=True) as tx:
        assert await tx.identities.list_for_user(jake.id) == [older, newer]


async def test_delete_removes_only_that_users_identity(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    mine, theirs = an_identity(jake, "a"), an_identity(jane, "b")
    await add(uow, mine, theirs)

    async with uow.begin() as tx:
        assert await tx.identities.delete(jake.id, theirs.id) is False
        assert await tx.identities.delete(jake.id, mine.id) is True
        await tx.commit()

    async with uow.begin(read_only=True) as tx:
        assert await tx.identities.list_for_user(jake.id) == []
        assert await tx.identities.list_for_user(jane.id) == [theirs]


async def test_an_uncommitted_link_leaves_no_trace(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)

    async with uow.begin() as tx:
        await tx.identities.add(an_identity(jake))

    async with uow.begin(read_only=True) as tx:
        assert await tx.identities.get("https://id.example", "sub-1") is None
