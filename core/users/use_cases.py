"""Use cases of the users context: registration, login, the current user."""

from __future__ import annotations

from dataclasses import dataclass

from core.shared.clock import Clock
from core.shared.ids import new_user_id
from core.shared.uow import UnitOfWork
from core.users.errors import (
    EmailTaken,
    InvalidCredentials,
    MissingToken,
    UsernameTaken,
    UserNotFound,
)
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
        self, uow: UnitOfWork, hasher: PasswordHasher, tokens: TokenIssuer, clock: Clock
    ) -> None:
        self._uow, self._hasher, self._tokens, self._clock = uow, hasher, tokens, clock

    async def execute(self, data: RegisterUserInput) -> UserView:
        username = username_of(data.username)
        email = email_of(data.email)
        password = check_password(data.password)
        async with self._uow.begin() as tx:
            # Pre-checks give the precise message; unique constraints decide under races.
            if await tx.users.get_by_username(username) is not None:
                raise UsernameTaken()
            if await tx.users.get_by_email(email) is not None:
                raise EmailTaken()
        # Hash outside the transaction: it takes tens of milliseconds and holds no lock.
        password_hash = await self._hasher.hash(password)
        now = self._clock.now()
        user = User(new_user_id(), username, email, password_hash, "", None, now, now)
        async with self._uow.begin() as tx:
            await tx.users.add(user)
            await tx.commit()
        return UserView.of(user, self._tokens.issue(user.id))


@dataclass(frozen=True, slots=True)
class LogInInput:
    email: str
    password: str


class LogIn:
    """Exchange email and password for a token.

    - the email is matched regardless of case
    - an unknown email and a wrong password fail alike, in message and in time
    """

    def __init__(self, uow: UnitOfWork, hasher: PasswordHasher, tokens: TokenIssuer) -> None:
        self._uow, self._hasher, self._tokens = uow, hasher, tokens
        self._decoy_hash: str | None = None

    async def execute(self, data: LogInInput) -> UserView:
        email = data.email.strip().lower()
        user = None
        if email and data.password:
            async with self._uow.begin() as tx:
                user = await tx.users.get_by_email(email)
        if user is None:
            await self._spend_equal_time(data.password)
            raise InvalidCredentials()
        if not await self._hasher.verify(data.password, user.password_hash):
            raise InvalidCredentials()
        return UserView.of(user, self._tokens.issue(user.id))

    async def _spend_equal_time(self, password: str) -> None:
        if self._decoy_hash is None:
            self._decoy_hash = await self._hasher.hash("decoy password, never matches")
        await self._hasher.verify(password, self._decoy_hash)


class Authenticate:
    """Turn a presented access token into the calling Actor.

    - the token must be valid, unexpired and signed by us
    """

    def __init__(self, tokens: TokenIssuer) -> None:
        self._tokens = tokens

    async def execute(self, token: str | None) -> Actor:
        if not token:
            raise MissingToken()
        return Actor(self._tokens.verify(token), token)


class GetCurrentUser:
    """The caller's own account; the token in the answer is the one presented."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, actor: Actor) -> UserView:
        async with self._uow.begin() as tx:
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
            if username not in (None, user.username) and await tx.users.get_by_username(
                str(username)
            ):
                raise UsernameTaken()
            if email not in (None, user.email) and await tx.users.get_by_email(str(email)):
                raise EmailTaken()
            updated = user.with_changes(now=self._clock.now(), **changes) if changes else user
            if changes:
                await tx.users.update(updated)
                await tx.commit()
        return UserView.of(updated, actor.token)
