"""Administration: listing users, changing their role and access, creating admins."""

from __future__ import annotations

from core.auth.errors import AdminRequired
from core.auth.ports import AuthTransaction, UserDirectory, UserFilter
from core.auth.views import UserPage
from core.shared.clock import Clock
from core.shared.errors import InvalidInput
from core.shared.events import SessionsRevoked
from core.shared.ids import UserId, new_user_id
from core.shared.uow import UnitOfWork
from core.users.errors import UserNotFound
from core.users.model import (
    Actor,
    Role,
    User,
    check_password,
    email_of,
    username_key,
    username_of,
)
from core.users.ports import PasswordHasher


def _ensure_admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN or actor.via_api_key:
        raise AdminRequired()


class ListUsers:
    """Admins list users in creation order with a cursor; filter by role, active, and `q`
    (a substring of username or email)."""

    def __init__(self, directory: UserDirectory) -> None:
        self._directory = directory

    async def execute(
        self, actor: Actor, filters: UserFilter, after: UserId | None, limit: int
    ) -> UserPage:
        _ensure_admin(actor)
        if not 1 <= limit <= 100:
            raise InvalidInput("must be between 1 and 100", field="limit")
        found = list(await self._directory.list_users(filters, after, limit + 1))
        more = len(found) > limit
        page = tuple(found[:limit])
        return UserPage(page, page[-1].id if more and page else None)


class ChangeUserAccess:
    """Admins set a user's role and whether they are active.

    - deactivating is final for the credentials the user held: it revokes their refresh
      tokens and API keys and moves their token version on, all in one transaction, so
      access tokens and keys from before stop working at once and stay dead after a
      reactivation (the owner then logs in again and makes new keys)
    - admins cannot demote or deactivate themselves (there must be someone left to undo it)
    """

    def __init__(self, uow: UnitOfWork[AuthTransaction], clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(
        self, actor: Actor, username: str, role: Role | None, active: bool | None
    ) -> User:
        _ensure_admin(actor)
        now = self._clock.now()
        async with self._uow.begin() as tx:
            user = await tx.users.get_by_username(username)
            if user is None:
                raise UserNotFound()
            if user.id == actor.user_id and (
                (role is not None and role is not Role.ADMIN) or active is False
            ):
                raise InvalidInput("admins cannot demote or deactivate themselves")
            await tx.users.set_access(
                user.id, role=role or user.role, active=user.active if active is None else active
            )
            if active is False:
                await tx.refresh_tokens.revoke_all_for_user(user.id, now)
                await tx.api_keys.revoke_all_for_user(user.id, now)
                await tx.users.bump_token_version(user.id)
                tx.record(SessionsRevoked(user.id))  # open sockets close, in every process
            await tx.commit()
            updated = await tx.users.get(user.id)
        assert updated is not None
        return updated


class CreateAdmin:
    """Create an admin account (for `conduit create-admin`), or promote the existing account
    with that email and username."""

    def __init__(
        self, uow: UnitOfWork[AuthTransaction], hasher: PasswordHasher, clock: Clock
    ) -> None:
        self._uow, self._hasher, self._clock = uow, hasher, clock

    async def execute(self, email: str, username: str, password: str) -> User:
        email, username = email_of(email), username_of(username)
        password_hash = await self._hasher.hash(check_password(password))
        now = self._clock.now()
        async with self._uow.begin() as tx:
            existing = await tx.users.get_by_email(email)
            if existing is not None and username_key(existing.username) == username_key(username):
                await tx.users.set_access(existing.id, role=Role.ADMIN, active=True)
                await tx.commit()
                promoted = await tx.users.get(existing.id)
                assert promoted is not None
                return promoted
            user = User(
                new_user_id(), username, email, password_hash, "", None, now, now, Role.ADMIN
            )
            await tx.users.add(user)
            await tx.commit()
        return user
