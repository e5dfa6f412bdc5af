"""UserRepository contract: memory, SQLite and Postgres behave alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core.shared.ids import new_user_id
from core.users.errors import EmailTaken, UsernameTaken
from core.users.model import Role
from entrypoints.container import AppUnitOfWork
from tests.builders import WHEN, a_user
from tests.contract.seed import store, update


async def test_get_returns_an_equal_user_after_commit(uow: AppUnitOfWork) -> None:
    user = replace(
        a_user("jake", bio="I work at statefarm", image="https://example.com/jake.png"),
        role=Role.MODERATOR,
        active=False,
        token_version=3,
    )
    await store(uow, user)

    async with uow.begin() as tx:
        assert await tx.users.get(user.id) == user


async def test_get_keeps_timestamps_timezone_aware_to_the_microsecond(uow: AppUnitOfWork) -> None:
    user = a_user("jake", now=WHEN.replace(microsecond=123_456))
    await store(uow, user)

    async with uow.begin() as tx:
        found = await tx.users.get(user.id)
    assert found is not None
    assert found.created_at == user.created_at
    assert found.created_at.utcoffset() == timedelta(0)
    assert found.created_at.microsecond == 123_456


async def test_get_returns_none_when_the_user_is_unknown(uow: AppUnitOfWork) -> None:
    await store(uow, a_user("jake"))

    async with uow.begin() as tx:
        assert await tx.users.get(new_user_id()) is None


async def test_get_by_email_finds_the_user_regardless_of_case(uow: AppUnitOfWork) -> None:
    user = a_user("jake", email="jake@jake.jake")
    await store(uow, user)

    async with uow.begin() as tx:
        assert await tx.users.get_by_email("jake@jake.jake") == user
        assert await tx.users.get_by_email("Jake@JAKE.jake") == user


async def test_get_by_email_returns_none_when_the_email_is_unknown(uow: AppUnitOfWork) -> None:
    await store(uow, a_user("jake", email="jake@jake.jake"))

    async with uow.begin() as tx:
        assert await tx.users.get_by_email("jane@jake.jake") is None


async def test_get_by_username_finds_the_user(uow: AppUnitOfWork) -> None:
    user, other = a_user("jake"), a_user("jane")
    await store(uow, user, other)

    async with uow.begin() as tx:
        assert await tx.users.get_by_username("jake") == user


async def test_get_by_username_ignores_case_and_width(uow: AppUnitOfWork) -> None:
    user = a_user("Jake")
    await store(uow, user)

    async with uow.begin() as tx:
        for asked in ("jake", "JAKE", "\uff4a\uff41\uff4b\uff45"):  # the last fullwidth
            assert await tx.users.get_by_username(asked) == user, asked


async def test_get_by_username_does_not_find_a_look_alike(uow: AppUnitOfWork) -> None:
    await store(uow, a_user("jake1"))

    async with uow.begin() as tx:
        assert await tx.users.get_by_username("jakel") is None


async def test_get_lookalike_finds_the_same_name_in_another_case(uow: AppUnitOfWork) -> None:
    user = a_user("jake")
    await store(uow, user)

    async with uow.begin() as tx:
        assert await tx.users.get_lookalike("JAKE") == user


async def test_get_lookalike_finds_a_name_that_looks_the_same(uow: AppUnitOfWork) -> None:
    user = a_user("ace")
    await store(uow, user)

    async with uow.begin() as tx:
        assert await tx.users.get_lookalike("\u0430\u0441\u0435") == user  # Cyrillic
        assert await tx.users.get_lookalike("acne") is None


async def test_get_lookalike_works_in_read_only_work(uow: AppUnitOfWork) -> None:
    # Registration's pre-check runs read-only (on Postgres: straight on the driver).
    user = a_user("ace")
    await store(uow, user)

    async with uow.begin(read_only=True) as tx:
        assert await tx.users.get_lookalike("ACE") == user
        assert await tx.users.get_lookalike("\u0430\u0441\u0435") == user  # Cyrillic
        assert await tx.users.get_lookalike("acne") is None


async def test_get_lookalike_leaves_out_the_given_user(uow: AppUnitOfWork) -> None:
    user = a_user("jake")
    await store(uow, user)

    async with uow.begin() as tx:
        assert await tx.users.get_lookalike("Jake", other_than=user.id) is None


async def test_get_lookalike_answers_the_same_name_before_a_look_alike(
    uow: AppUnitOfWork,
) -> None:
    # "paypai" has the key of "PAYPAI" and "paypal" its skeleton ("I" looks like "l").
    same, alike = a_user("paypai"), a_user("paypal")
    await store(uow, alike, same)

    async with uow.begin() as tx:
        assert await tx.users.get_lookalike("PAYPAI") == same
        assert await tx.users.get_lookalike("paypaI") in (same, alike)
        assert await tx.users.get_lookalike("paypaI", other_than=same.id) == alike


async def test_get_by_username_returns_none_when_the_username_is_unknown(
    uow: AppUnitOfWork,
) -> None:
    await store(uow, a_user("jake"))

    async with uow.begin() as tx:
        assert await tx.users.get_by_username("jane") is None


async def test_update_replaces_every_changeable_field(uow: AppUnitOfWork) -> None:
    user = a_user("jake", bio="old bio", image="https://example.com/old.png")
    await store(uow, user)
    changed = user.with_changes(
        now=WHEN + timedelta(days=1),
        username="jacob",
        email="jacob@example.com",
        password_hash="fake-sha256$another",
        bio="new bio",
        image=None,
    )

    async with uow.begin() as tx:
        await tx.users.update(changed)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.users.get(user.id) == changed
        assert await tx.users.get_by_username("jake") is None
        assert await tx.users.get_by_email("jake@example.com") is None


async def test_update_leaves_other_users_unchanged(uow: AppUnitOfWork) -> None:
    user, other = a_user("jake"), a_user("jane")
    await store(uow, user, other)

    async with uow.begin() as tx:
        await tx.users.update(user.with_changes(now=WHEN, bio="changed"))
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.users.get(other.id) == other


async def test_update_keeping_the_own_username_and_email_is_no_clash(uow: AppUnitOfWork) -> None:
    user = a_user("jake")
    await store(uow, user)
    changed = user.with_changes(now=WHEN + timedelta(seconds=1), bio="only the bio")

    async with uow.begin() as tx:
        await tx.users.update(changed)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.users.get(user.id) == changed


async def test_add_raises_username_taken_when_the_username_exists(uow: AppUnitOfWork) -> None:
    await store(uow, a_user("jake", email="jake@example.com"))

    with pytest.raises(UsernameTaken):
        await store(uow, a_user("jake", email="other@example.com"))


@pytest.mark.parametrize(
    "username",
    ["Jake", "\uff4a\uff41\uff4b\uff45", "jakel"],  # another case, fullwidth, a look-alike
)
async def test_add_raises_username_taken_when_a_name_alike_exists(
    uow: AppUnitOfWork, username: str
) -> None:
    # The unique indexes on the key and the skeleton decide, whatever the pre-checks saw.
    await store(uow, a_user("jake1" if username == "jakel" else "jake", email="jake@example.com"))

    with pytest.raises(UsernameTaken):
        await store(uow, a_user(username, email="other@example.com"))


async def test_update_raises_username_taken_when_another_has_it_in_another_case(
    uow: AppUnitOfWork,
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)

    with pytest.raises(UsernameTaken):
        await update(uow, jane.with_changes(now=WHEN, username="JAKE"))


async def test_update_may_change_the_case_of_the_own_username(uow: AppUnitOfWork) -> None:
    user = a_user("jake")
    await store(uow, user)
    changed = user.with_changes(now=WHEN + timedelta(seconds=1), username="Jake")

    await update(uow, changed)

    async with uow.begin() as tx:
        assert await tx.users.get_by_username("jake") == changed


async def test_add_raises_email_taken_when_the_email_exists(uow: AppUnitOfWork) -> None:
    await store(uow, a_user("jake", email="jake@example.com"))

    with pytest.raises(EmailTaken):
        await store(uow, a_user("jane", email="jake@example.com"))


async def test_update_raises_username_taken_when_another_user_has_it(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)

    with pytest.raises(UsernameTaken):
        await update(uow, jane.with_changes(now=WHEN, username="jake"))


async def test_update_raises_email_taken_when_another_user_has_it(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)

    with pytest.raises(EmailTaken):
        await update(uow, jane.with_changes(now=WHEN, email=jake.email))


async def test_a_failed_update_leaves_the_user_unchanged(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)

    with pytest.raises(UsernameTaken):
        await update(uow, jane.with_changes(now=WHEN, username="jake", bio="lost"))

    async with uow.begin() as tx:
        assert await tx.users.get(jane.id) == jane


async def test_update_leaves_created_at_role_active_and_token_version_alone(
    uow: AppUnitOfWork,
) -> None:
    user = a_user("jake")
    await store(uow, user)
    changed = replace(
        user.with_changes(now=WHEN + timedelta(days=1), bio="new bio"),
        created_at=WHEN + timedelta(days=1),
        role=Role.ADMIN,
        active=False,
        token_version=9,
    )

    await update(uow, changed)

    async with uow.begin() as tx:
        found = await tx.users.get(user.id)
    assert found == replace(
        changed,
        created_at=user.created_at,
        role=user.role,
        active=user.active,
        token_version=user.token_version,
    )


async def test_set_access_changes_only_role_and_active(uow: AppUnitOfWork) -> None:
    user, other = a_user("jake"), a_user("jane")
    await store(uow, user, other)

    async with uow.begin() as tx:
        await tx.users.set_access(user.id, role=Role.MODERATOR, active=False)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.users.get(user.id) == replace(user, role=Role.MODERATOR, active=False)
        assert await tx.users.get(other.id) == other


async def test_bump_token_version_adds_one_per_call(uow: AppUnitOfWork) -> None:
    user, other = a_user("jake"), a_user("jane")
    await store(uow, user, other)

    for _ in range(2):
        async with uow.begin() as tx:
            await tx.users.bump_token_version(user.id)
            await tx.commit()

    async with uow.begin() as tx:
        assert await tx.users.get(user.id) == replace(user, token_version=2)
        assert await tx.users.get(other.id) == other
