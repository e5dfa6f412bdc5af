"""Use cases of the profiles context: GetProfile, FollowUser, UnfollowUser."""

from __future__ import annotations

import pytest

from core.profiles.errors import CannotFollowSelf, ProfileNotFound
from core.profiles.use_cases import FollowUser, GetProfile, UnfollowUser
from core.profiles.views import ProfileView
from core.shared.errors import InvalidInput
from core.users.model import Actor
from core.users.use_cases import UpdateUser, UpdateUserInput
from tests.builders import Fakes


async def test_profile_shows_the_users_public_fields(fakes: Fakes, celeb: Actor) -> None:
    await fakes.build(UpdateUser).execute(
        celeb, UpdateUserInput(bio="famous", image="https://i.example/c.png")
    )
    profile = await fakes.build(GetProfile).execute("celeb", None)
    assert profile == ProfileView("celeb", "famous", "https://i.example/c.png", following=False)


async def test_profile_is_not_followed_for_an_anonymous_viewer(fakes: Fakes, celeb: Actor) -> None:
    assert (await fakes.build(GetProfile).execute("celeb", None)).following is False


async def test_profile_is_not_followed_when_the_viewer_does_not_follow(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    assert (await fakes.build(GetProfile).execute("celeb", jake.user_id)).following is False


async def test_profile_is_followed_when_the_viewer_follows(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    await fakes.build(FollowUser).execute(jake, "celeb")
    assert (await fakes.build(GetProfile).execute("celeb", jake.user_id)).following is True


async def test_profile_following_is_relative_to_the_viewer(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    await fakes.build(FollowUser).execute(jake, "celeb")
    assert (await fakes.build(GetProfile).execute("jake", celeb.user_id)).following is False


async def test_own_profile_is_not_followed(fakes: Fakes, jake: Actor) -> None:
    assert (await fakes.build(GetProfile).execute("jake", jake.user_id)).following is False


async def test_profile_fails_with_profile_not_found_for_an_unknown_username(
    fakes: Fakes, jake: Actor
) -> None:
    with pytest.raises(ProfileNotFound):
        await fakes.build(GetProfile).execute("nobody", jake.user_id)


async def test_profile_username_is_matched_regardless_of_case(fakes: Fakes, celeb: Actor) -> None:
    profile = await fakes.build(GetProfile).execute("CELEB", None)
    assert profile.username == "celeb"


async def test_follow_finds_the_user_regardless_of_case(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    profile = await fakes.build(FollowUser).execute(jake, "Celeb")
    assert profile == ProfileView("celeb", "", None, following=True)


async def test_follow_returns_the_profile_as_followed(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    profile = await fakes.build(FollowUser).execute(jake, "celeb")
    assert profile == ProfileView("celeb", "", None, following=True)


async def test_follow_records_one_follow(fakes: Fakes, jake: Actor, celeb: Actor) -> None:
    await fakes.build(FollowUser).execute(jake, "celeb")
    assert list(fakes.db.state.follows) == [(jake.user_id, celeb.user_id)]


async def test_follow_is_idempotent(fakes: Fakes, jake: Actor, celeb: Actor) -> None:
    follow = fakes.build(FollowUser)
    await follow.execute(jake, "celeb")
    profile = await follow.execute(jake, "celeb")
    assert profile.following is True
    assert list(fakes.db.state.follows) == [(jake.user_id, celeb.user_id)]


async def test_follow_fails_with_cannot_follow_self(fakes: Fakes, jake: Actor) -> None:
    with pytest.raises(CannotFollowSelf) as caught:
        await fakes.build(FollowUser).execute(jake, "jake")
    assert isinstance(caught.value, InvalidInput)
    assert fakes.db.state.follows == {}


async def test_follow_fails_with_profile_not_found_for_an_unknown_username(
    fakes: Fakes, jake: Actor
) -> None:
    with pytest.raises(ProfileNotFound):
        await fakes.build(FollowUser).execute(jake, "nobody")


async def test_unfollow_returns_the_profile_as_not_followed(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    await fakes.build(FollowUser).execute(jake, "celeb")
    profile = await fakes.build(UnfollowUser).execute(jake, "celeb")
    assert profile == ProfileView("celeb", "", None, following=False)
    assert (await fakes.build(GetProfile).execute("celeb", jake.user_id)).following is False


async def test_unfollow_is_idempotent(fakes: Fakes, jake: Actor, celeb: Actor) -> None:
    unfollow = fakes.build(UnfollowUser)
    first = await unfollow.execute(jake, "celeb")
    second = await unfollow.execute(jake, "celeb")
    assert first == second
    assert second.following is False
    assert fakes.db.state.follows == {}


async def test_unfollow_leaves_other_follows_alone(fakes: Fakes, jake: Actor, celeb: Actor) -> None:
    await fakes.build(FollowUser).execute(jake, "celeb")
    await fakes.build(FollowUser).execute(celeb, "jake")
    await fakes.build(UnfollowUser).execute(jake, "celeb")
    assert list(fakes.db.state.follows) == [(celeb.user_id, jake.user_id)]


async def test_unfollow_fails_with_profile_not_found_for_an_unknown_username(
    fakes: Fakes, jake: Actor
) -> None:
    with pytest.raises(ProfileNotFound):
        await fakes.build(UnfollowUser).execute(jake, "nobody")
