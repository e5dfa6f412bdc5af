"""ApiKeyRepository contract: memory, SQLite and Postgres behave alike."""

from __future__ import annotations

import uuid
from datetime import timedelta

from core.auth.model import ApiKey, digest, new_api_key_secret
from core.shared.ids import UserId
from core.users.model import Scope
from entrypoints.container import AppUnitOfWork
from tests.builders import WHEN, a_user
from tests.contract.seed import store

LATER = WHEN + timedelta(hours=1)


def a_key(user_id: UserId, name: str = "ci") -> ApiKey:
    prefix, raw = new_api_key_secret()
    return ApiKey(
        uuid.uuid4(), user_id, name, prefix, digest(raw), frozenset({Scope.FEED_READ}), WHEN
    )


async def add(uow: AppUnitOfWork, *keys: ApiKey) -> None:
    async with uow.begin() as tx:
        for key in keys:
            await tx.api_keys.add(key)
        await tx.commit()


async def test_revoke_all_for_user_revokes_every_key_of_that_user(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    first, second = a_key(jake.id, "one"), a_key(jake.id, "two")
    await add(uow, first, second)

    async with uow.begin() as tx:
        await tx.api_keys.revoke_all_for_user(jake.id, LATER)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.api_keys.list_for_user(jake.id) == []
        for key in (first, second):
            found = await tx.api_keys.get(key.id)
            assert found is not None
            assert found.revoked_at == LATER


async def test_revoke_all_for_user_leaves_other_users_keys_alone(uow: AppUnitOfWork) -> None:
    jake, anna = a_user("jake"), a_user("anna")
    await store(uow, jake, anna)
    annas = a_key(anna.id)
    await add(uow, a_key(jake.id), annas)

    async with uow.begin() as tx:
        await tx.api_keys.revoke_all_for_user(jake.id, LATER)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.api_keys.list_for_user(anna.id) == [annas]


async def test_revoke_all_for_user_keeps_the_first_revocation_time(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    key = a_key(jake.id)
    await add(uow, key)
    async with uow.begin() as tx:
        await tx.api_keys.revoke(key.id, LATER)
        await tx.commit()

    async with uow.begin() as tx:
        await tx.api_keys.revoke_all_for_user(jake.id, LATER + timedelta(days=1))
        await tx.commit()

    async with uow.begin() as tx:
        found = await tx.api_keys.get(key.id)
    assert found is not None
    assert found.revoked_at == LATER


async def test_revoke_all_for_user_is_undone_by_a_rollback(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    key = a_key(jake.id)
    await add(uow, key)

    async with uow.begin() as tx:
        await tx.api_keys.revoke_all_for_user(jake.id, LATER)  # no commit

    async with uow.begin() as tx:
        assert await tx.api_keys.list_for_user(jake.id) == [key]
