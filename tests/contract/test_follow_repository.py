"""FollowRepository contract: memory, SQLite and Postgres behave alike."""

from __future__ import annotations

from entrypoints.container import AppUnitOfWork
from tests.builders import a_user
from tests.contract.seed import follow, store


async def test_is_following_is_false_by_default(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)

    async with uow.begin() as tx:
        assert await tx.follows.is_following(jake.id, jane.id) is False


async def test_is_following_is_true_after_add(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)

    async with uow.begin() as tx:
        await tx.follows.add(jake.id, jane.id)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.follows.is_following(jake.id, jane.id) is True


async def test_following_is_one_way(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    await follow(uow, jake, jane)

    async with uow.begin() as tx:
        assert await tx.follows.is_following(jane.id, jake.id) is False


async def test_following_one_user_does_not_follow_another(uow: AppUnitOfWork) -> None:
    jake, jane, john = a_user("jake"), a_user("jane"), a_user("john")
    await store(uow, jake, jane, john)
    await follow(uow, jake, jane)

    async with uow.begin() as tx:
        assert await tx.follows.is_following(jake.id, john.id) is False


async def test_add_is_idempotent_so_one_remove_undoes_two_adds(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    await follow(uow, jake, jane)

    async with uow.begin() as tx:
        await tx.follows.add(jake.id, jane.id)  # no error, no second link
        await tx.commit()
    async with uow.begin() as tx:
        assert await tx.follows.is_following(jake.id, jane.id) is True
        await tx.follows.remove(jake.id, jane.id)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.follows.is_following(jake.id, jane.id) is False


async def test_remove_stops_following(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    await follow(uow, jake, jane)

    async with uow.begin() as tx:
        await tx.follows.remove(jake.id, jane.id)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.follows.is_following(jake.id, jane.id) is False


async def test_remove_is_a_no_op_when_not_following(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    await follow(uow, jane, jake)

    async with uow.begin() as tx:
        await tx.follows.remove(jake.id, jane.id)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.follows.is_following(jake.id, jane.id) is False
        assert await tx.follows.is_following(jane.id, jake.id) is True


async def test_remove_leaves_the_followers_other_follows(uow: AppUnitOfWork) -> None:
    jake, jane, john = a_user("jake"), a_user("jane"), a_user("john")
    await store(uow, jake, jane, john)
    await follow(uow, jake, jane, john)

    async with uow.begin() as tx:
        await tx.follows.remove(jake.id, jane.id)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.follows.is_following(jake.id, john.id) is True
