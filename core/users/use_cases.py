"""Use cases of the users context: registration, the current user and its changes."""

from __future__ import annotations

from dataclasses import dataclass

from core.shared.clock import Clock
from core.shared.errors import Conflict, joined
from core.shared.events import ProfileChanged
from core.shared.ids import UserId, new_user_id
from core.shared.uow import UnitOfWork
from core.users.errors import EmailTaken, UsernameLookalike, UsernameTaken, UserNotFound
from core.users.model import (
    Actor,
    User,
    bio_of,
    check_password,
    email_of,
    image_of,
    username_key,
    username_of,
)
from core.users.ports import PasswordHasher, UsersTransaction
from core.users.views import UserView


async def _taken(
    tx: UsersTransaction,
    username: str | None,
    email: str | None,
    *,
    other_than: UserId | None = None,
) -> list[Conflict]:
    """Which of a new username and email (None: not changing) another account holds already:
    the same username up to case and Unicode compatibility, or one that looks like it (TR39
    skeleton). Both are looked up, so that one answer names every taken field."""
    taken: list[Conflict] = []
    if username is not None:
        holder = await tx.users.get_lookalike(username, other_than=other_than)
        if holder is not None:
            same = username_key(holder.username) == username_key(username)
            taken.append(UsernameTaken() if same else UsernameLookalike())
    if email is not None and await tx.users.get_by_email(email) is not None:
        taken.append(EmailTaken())
    return taken


@dataclass(frozen=True, slots=True)
class RegisterUserInput:
    username: str
    email: str
    password: str


class RegisterUser:
    """Create a new account (signing it in is the auth context's part).

    - username: 1-40 letters, digits, `_`, `-`, `.`, its letters of one script (no Latin
      mixed with Cyrillic); unique regardless of case and Unicode compatibility forms, and
      not confusable with another (Unicode TR39 skeleton): with `admin` registered, `Admin`
      and `admin` with a Cyrillic `a` (U+0430) are refused
    - email: valid, unique regardless of case
    - password: 8-256 characters, stored only as an Argon2 hash
    """

    def __init__(
        self, uow: UnitOfWork[UsersTransaction], hasher: PasswordHasher, clock: Clock
    ) -> None:
        self._uow, self._hasher, self._clock = uow, hasher, clock

    async def execute(self, data: RegisterUserInput) -> User:
        username = username_of(data.username)
        email = email_of(data.email)
        password = check_password(data.password)
        async with self._uow.begin(read_only=True) as tx:
            # Pre-checks give the precise message; unique constraints decide under races.
            taken = await _taken(tx, username, email)
        if taken:
            raise joined(taken)
        # Hash outside the transaction: it takes tens of milliseconds and holds no lock.
        password_hash = await self._hasher.hash(password)
        now = self._clock.now()
        user = User(new_user_id(), username, email, password_hash, "", None, now, now)
        async with self._uow.begin() as tx:
            await tx.users.add(user)
            await tx.commit()
        return user


class GetCurrentUser:
    """The caller's own account; the token in the answer is the one presented."""

    def __init__(self, uow: UnitOfWork[UsersTransaction]) -> None:
        self._uow = uow

    async def execute(self, actor: Actor) -> UserView:
        async with self._uow.begin(read_only=True) as tx:
            user = await tx.users.get(actor.user_id)
        if user is None:
            raise UserNotFound()
        return UserView.of(user, actor.token)


@dataclass(frozen=True, slots=True)
class UpdateUserInput:
    """Fields to change; None leaves a field as it is. Blank bio or image clears it."""

    email: str | None = None
    username: str | None = None
    password: str | None = None
    bio: str | None = None
    image: str | None = None


class UpdateUser:
    """Change the caller's account.

    - username and email stay unique; the same rules as at registration apply (changing
      only the case of one's own username is allowed)
    - a new password is re-hashed; an empty bio or image clears it
    """

    def __init__(
        self, uow: UnitOfWork[UsersTransaction], hasher: PasswordHasher, clock: Clock
    ) -> None:
        self._uow, self._hasher, self._clock = uow, hasher, clock

    async def execute(self, actor: Actor, data: UpdateUserInput) -> UserView:
        changes: dict[str, str | None] = {}
        if data.username is not None:
            changes["username"] = username_of(data.username)
        if data.email is not None:
            changes["email"] = email_of(data.email)
        if data.bio is not None:
            changes["bio"] = bio_of(data.bio)
        if data.image is not None:
            changes["image"] = image_of(data.image)
        if data.password is not None:
            changes["password_hash"] = await self._hasher.hash(check_password(data.password))
        async with self._uow.begin() as tx:
            user = await tx.users.get(actor.user_id)
            if user is None:
                raise UserNotFound()
            username, email = changes.get("username"), changes.get("email")
            taken = await _taken(
                tx,
                username if username != user.username else None,
                email if email != user.email else None,
                other_than=user.id,
            )
            if taken:
                raise joined(taken)
            updated = user.with_changes(now=self._clock.now(), **changes) if changes else user
            if changes:
                await tx.users.update(updated)
                tx.record(ProfileChanged(user.username, updated.username))
                await tx.commit()
        return UserView.of(updated, actor.token)
