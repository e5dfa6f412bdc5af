"""ProfileQueries contract: memory, SQLite and Postgres behave alike."""

from __future__ import annotations

from core.profiles.ports import ProfileQueries
from core.profiles.views import ProfileView
from entrypoints.container import AppUnitOfWork
from tests.builders import a_user
from tests.contract.seed import follow, store


async def test_get_profile_returns_the_public_fields(
    uow: AppUnitOfWork, profile_queries: ProfileQueries
) -> None:
    await store(uow, a_user("jake", bio="I work at statefarm", image="https://example.com/j.png"))

    profile = await profile_queries.get_profile("jake", None)

    assert profile == ProfileView("jake", "I work at statefarm", "https://example.com/j.png", False)


async def test_get_profile_returns_none_when_the_username_is_unknown(
    uow: AppUnitOfWork, profile_queries: ProfileQueries
) -> None:
    await store(uow, a_user("jake"))

    assert await profile_queries.get_profile("jane", None) is None


async def test_get_profile_matches_the_username_regardless_of_case_and_width(
    uow: AppUnitOfWork, profile_queries: ProfileQueries
) -> None:
    await store(uow, a_user("Jake"))

    for asked in ("jake", "JAKE", "Jake", "\uff4a\uff41\uff4b\uff45"):  # the last fullwidth
        profile = await profile_queries.get_profile(asked, None)
        assert profile is not None, asked
        assert profile.username == "Jake"


async def test_get_profile_does_not_match_a_look_alike(
    uow: AppUnitOfWork, profile_queries: ProfileQueries
) -> None:
    await store(uow, a_user("jake1"))

    # The same skeleton ("1" looks like "l"), another name: looked up by key only.
    assert await profile_queries.get_profile("jakel", None) is None


async def test_is_following_finds_the_user_regardless_of_case(
    uow: AppUnitOfWork, profile_queries: ProfileQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    await follow(uow, jane, jake)

    assert await profile_queries.is_following("JAKE", jane.id) is True


async def test_following_is_true_when_the_viewer_follows_the_user(
    uow: AppUnitOfWork, profile_queries: ProfileQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    await follow(uow, jane, jake)

    profile = await profile_queries.get_profile("jake", jane.id)

    assert profile is not None
    assert profile.following is True


async def test_following_is_false_when_the_viewer_does_not_follow_the_user(
    uow: AppUnitOfWork, profile_queries: ProfileQueries
) -> None:
    jake, jane, john = a_user("jake"), a_user("jane"), a_user("john")
    await store(uow, jake, jane, john)
    await follow(uow, john, jake)  # someone else does
    await follow(uow, jake, jane)  # the other way round

    profile = await profile_queries.get_profile("jake", jane.id)

    assert profile is not None
    assert profile.following is False


async def test_following_is_false_when_there_is_no_viewer(
    uow: AppUnitOfWork, profile_queries: ProfileQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    await follow(uow, jane, jake)

    profile = await profile_queries.get_profile("jake", None)

    assert profile is not None
    assert profile.following is False


async def test_following_is_false_when_the_viewer_is_the_user(
    uow: AppUnitOfWork, profile_queries: ProfileQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    await follow(uow, jane, jake)

    profile = await profile_queries.get_profile("jake", jake.id)

    assert profile is not None
    assert profile.following is False


async def test_get_profile_ignores_uncommitted_follows(
    uow: AppUnitOfWork, profile_queries: ProfileQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)

    async with uow.begin() as tx:
        await tx.follows.add(jane.id, jake.id)
        profile = await profile_queries.get_profile("jake", jane.id)

    assert profile is not None
    assert profile.following is False
