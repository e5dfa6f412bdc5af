"""Use cases of the users context: registration, login, the current user."""

from __future__ import annotations

from dataclasses import dataclass

from core.auth.model import AuthPolicy
from core.auth.sessions import PasswordCheck
from core.shared.clock import Clock
from core.shared.errors import Conflict, joined
from core.shared.events import ProfileChanged
from core.shared.ids import new_user_id
from core.shared.uow import Transaction, UnitOfWork
from core.users.errors import EmailTaken, UsernameTaken, UserNotFound
from core.users.model import (
    Actor,
    User,
    bio_of,
    check_password,
    email_of,
    image_of,
    username_of,
)
from core.users.ports import PasswordHasher, TokenIssuer


@dataclass(frozen=True, slots=True)
class UserView:
    """The caller's own account, with the token that authenticates them."""

    email: str
    username: str
    bio: str
    image: str | None
    token: str

    @classmethod
    def of(cls, user: User, token: str) -> UserView:
        return cls(user.email, user.username, user.bio, user.image, token)


async def _taken(tx: Transaction, username: str | None, email: str | None) -> list[Conflict]:
    """Which of a new username and email (None: not changing) another account holds already.
    Both are looked up, so that one answer names every taken field."""
    taken: list[Conflict] = []
    if username is not None and await tx.users.get_by_username(username) is not None:
        taken.append(UsernameTaken())
    if email is not None and await tx.users.get_by_email(email) is not None:
        taken.append(EmailTaken())
    return taken


@dataclass(frozen=True, slots=True)
class RegisterUserInput:
    username: str
    email: str
    password: str


class RegisterUser:
    """Register a new account and sign it in.

    - username: 1-40 letters, digits, `_`, `-`, `.`; unique
    - email: valid, unique regardless of case
    - password: 8-256 characters, stored only as an Argon2 hash
    """

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        tokens: TokenIssuer,
        clock: Clock,
        policy: AuthPolicy,
    ) -> None:
        self._uow, self._hasher, self._tokens, self._clock = uow, hasher, tokens, clock
        self._policy = policy

    async def execute(self, data: RegisterUserInput) -> UserView:
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
        token = self._tokens.issue(user.id, version=0, ttl=self._policy.realworld_ttl)
        return UserView.of(user, token)


@dataclass(frozen=True, slots=True)
class LogInInput:
    email: str
    password: str
    client: str | None = None


class LogIn:
    """Exchange email and password for a token.

    - the email is matched regardless of case
    - an unknown email and a wrong password fail alike, in message and in time
    - repeated failures per account or per client address are refused for a while (429)
    - a deactivated account cannot log in
    """

    def __init__(self, passwords: PasswordCheck, tokens: TokenIssuer, policy: AuthPolicy) -> None:
        self._passwords, self._tokens, self._policy = passwords, tokens, policy

    async def execute(self, data: LogInInput) -> UserView:
        user = await self._passwords.check(data.email, data.password, data.client)
        token = self._tokens.issue(
            user.id, version=user.token_version, ttl=self._policy.realworld_ttl
        )
        return UserView.of(user, token)


class GetCurrentUser:
    """The caller's own account; the token in the answer is the one presented."""

    def __init__(self, uow: UnitOfWork) -> None:
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

    - username and email stay unique; the same rules as at registration apply
    - a new password is re-hashed; an empty bio or image clears it
    """

    def __init__(self, uow: UnitOfWork, hasher: PasswordHasher, clock: Clock) -> None:
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
            )
            if taken:
                raise joined(taken)
            updated = user.with_changes(now=self._clock.now(), **changes) if changes else user
            if changes:
                await tx.users.update(updated)
                tx.record(ProfileChanged(user.username, updated.username))
                await tx.commit()
        return UserView.of(updated, actor.token)
