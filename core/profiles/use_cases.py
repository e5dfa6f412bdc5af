"""Use cases of the profiles context: view, follow, unfollow."""

from __future__ import annotations

from core.profiles.errors import CannotFollowSelf, ProfileNotFound
from core.profiles.ports import ProfileQueries, ProfilesTransaction
from core.profiles.views import ProfileView
from core.shared.events import UserFollowed
from core.shared.ids import UserId
from core.shared.uow import UnitOfWork
from core.users.model import Actor


class GetProfile:
    """A user's public profile, found by username regardless of case (`JAKE` is `jake`);
    `following` is false for anonymous viewers and for oneself."""

    def __init__(self, profiles: ProfileQueries) -> None:
        self._profiles = profiles

    async def execute(self, username: str, viewer: UserId | None) -> ProfileView:
        profile = await self._profiles.get_profile(username, viewer)
        if profile is None:
            raise ProfileNotFound()
        return profile


class FollowUser:
    """Follow a user. Idempotent; following oneself is refused."""

    def __init__(self, uow: UnitOfWork[ProfilesTransaction]) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, username: str) -> ProfileView:
        async with self._uow.begin() as tx:
            followee = await tx.users.get_by_username(username)
            if followee is None:
                raise ProfileNotFound()
            if followee.id == actor.user_id:
                raise CannotFollowSelf()
            await tx.follows.add(actor.user_id, followee.id)
            tx.record(UserFollowed(actor.user_id, followee.id))
            await tx.commit()
        return ProfileView.of(followee, following=True)


class UnfollowUser:
    """Stop following a user. Idempotent."""

    def __init__(self, uow: UnitOfWork[ProfilesTransaction]) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, username: str) -> ProfileView:
        async with self._uow.begin() as tx:
            followee = await tx.users.get_by_username(username)
            if followee is None:
                raise ProfileNotFound()
            await tx.follows.remove(actor.user_id, followee.id)
            await tx.commit()
        return ProfileView.of(followee, following=False)
