"""RealWorld sessions: signing up and logging in for a token, and the password check (with its
brute-force limits) that login and the OAuth2 password grant share."""

from __future__ import annotations

from dataclasses import dataclass

from core.auth.errors import InvalidCredentials
from core.auth.login_limits import LoginLimits
from core.auth.model import AuthPolicy
from core.auth.ports import AuthTransaction, TokenIssuer
from core.shared.uow import UnitOfWork
from core.users.model import User
from core.users.ports import PasswordHasher
from core.users.use_cases import RegisterUser, RegisterUserInput
from core.users.views import UserView


class PasswordCheck:
    """Checks email + password with brute-force protection.

    - the limits are LoginLimits': per (account, address) pair and per address, and per
      account only past a much higher ceiling that the account's known addresses pass; a
      refused attempt is refused right password or not (TooManyAttempts)
    - an unknown email costs as much as a wrong password (no enumeration by timing)
    - a deactivated account cannot log in, and fails exactly as a wrong password does
    - an account without a password (made by OpenID Connect sign-in) fails the same way,
      whatever password is sent, until its owner sets one
    """

    def __init__(
        self,
        uow: UnitOfWork[AuthTransaction],
        hasher: PasswordHasher,
        limits: LoginLimits,
    ) -> None:
        self._uow, self._hasher, self._limits = uow, hasher, limits
        self._decoy_hash: str | None = None

    async def check(self, email: str, password: str, client: str | None) -> User:
        email = email.strip().lower()
        attempt = await self._limits.admit(email, client)
        user = None
        if email and password:
            async with self._uow.begin(read_only=True) as tx:
                user = await tx.users.get_by_email(email)
        if user is None or not user.has_password:
            # An account without a password (made by OpenID Connect sign-in) fails as an
            # unknown email does: the same answer, the same time.
            await self._spend_equal_time(password)
            ok = False
        else:
            ok = await self._hasher.verify(password, user.password_hash)
        # A deactivated account fails as a wrong password does, in answer and in counting:
        # a different error, or a 429 that came later for the right password than for a
        # wrong one, would confirm a guess.
        if not ok or user is None or not user.active:
            await self._limits.failed(attempt)
            raise InvalidCredentials()
        await self._limits.succeeded(attempt)
        return user

    async def _spend_equal_time(self, password: str) -> None:
        if self._decoy_hash is None:
            self._decoy_hash = await self._hasher.hash("decoy password, never matches")
        await self._hasher.verify(password, self._decoy_hash)


class SignUp:
    """Register a new account and sign it in.

    - username: 1-40 letters, digits, `_`, `-`, `.`, its letters of one script (no Latin
      mixed with Cyrillic); unique regardless of case and Unicode compatibility forms, and
      not confusable with another (Unicode TR39 skeleton): with `admin` registered, `Admin`
      and `admin` with a Cyrillic `a` (U+0430) are refused
    - email: valid, unique regardless of case
    - password: 8-256 characters, stored only as an Argon2 hash
    """

    def __init__(self, register: RegisterUser, tokens: TokenIssuer, policy: AuthPolicy) -> None:
        self._register, self._tokens, self._policy = register, tokens, policy

    async def execute(self, data: RegisterUserInput) -> UserView:
        user = await self._register.execute(data)
        token = self._tokens.issue(
            user.id, version=user.token_version, ttl=self._policy.realworld_ttl
        )
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
    - after repeated failures from one address (for this account, or for any), attempts
      from it are refused until the failure window ends; after many failures for this
      account from anywhere, only addresses it logged in from lately are let in
    - a deactivated account cannot log in: it gets the wrong-password answer, whichever
      password is sent
    """

    def __init__(self, passwords: PasswordCheck, tokens: TokenIssuer, policy: AuthPolicy) -> None:
        self._passwords, self._tokens, self._policy = passwords, tokens, policy

    async def execute(self, data: LogInInput) -> UserView:
        user = await self._passwords.check(data.email, data.password, data.client)
        token = self._tokens.issue(
            user.id, version=user.token_version, ttl=self._policy.realworld_ttl
        )
        return UserView.of(user, token)
