"""Ports of the profiles context."""

from __future__ import annotations

from typing import Protocol

from core.profiles.views import ProfileView
from core.shared.ids import UserId
from core.users.ports import UsersTransaction


class FollowRepository(Protocol):
    """Who follows whom. `add` and `remove` are idempotent; a user may not follow themselves
    (the use case checks; storage need not)."""

    async def add(self, follower_id: UserId, followee_id: UserId) -> None: ...
    async def remove(self, follower_id: UserId, followee_id: UserId) -> None: ...
    async def is_following(self, follower_id: UserId, followee_id: UserId) -> bool: ...


class ProfileQueries(Protocol):
    """Profiles as a viewer sees them: `following` exact for the viewer, False without one."""

    async def get_profile(self, username: str, viewer: UserId | None) -> ProfileView | None: ...
    async def is_following(self, username: str, viewer: UserId) -> bool: ...


class ProfilesTransaction(UsersTransaction, Protocol):
    """What the profiles context's use cases need of a transaction."""

    @property
    def follows(self) -> FollowRepository: ...
