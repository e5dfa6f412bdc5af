"""Use cases of the auth context: authentication, OAuth2 tokens, API keys, administration."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.auth.errors import (
    AccountDisabled,
    AdminRequired,
    ApiKeyNotFound,
    InvalidApiKey,
    InvalidGrant,
    InvalidRequest,
    MissingScope,
    SessionRequired,
    UnsupportedGrantType,
)
from core.auth.model import (
    ApiKey,
    AuthPolicy,
    RefreshToken,
    api_key_name_of,
    api_key_prefix,
    digest,
    new_api_key_secret,
    new_secret,
    scopes_of,
)
from core.auth.ports import AttemptCounter, KeyPublisher, UserDirectory, UserFilter
from core.shared.clock import Clock
from core.shared.errors import InvalidInput, RateLimited
from core.shared.ids import UserId, new_user_id
from core.shared.uow import Transaction, UnitOfWork
from core.users.errors import InvalidCredentials, InvalidToken, MissingToken, UserNotFound
from core.users.model import (
    Actor,
    Role,
    Scope,
    User,
    check_password,
    email_of,
    username_of,
)
from core.users.ports import PasswordHasher, TokenIssuer


class TooManyAttempts(RateLimited):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            "too many failed logins; try again later", retry_after_s=max(1, retry_after_s)
        )


class PasswordCheck:
    """Checks email + password with brute-force protection.

    - failures are counted per account and per client address in a window; past either
      threshold every attempt is refused (429) until the window ends, right password or not
    - an unknown email costs as much as a wrong password (no enumeration by timing)
    - a deactivated account cannot log in
    """

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        attempts: AttemptCounter,
        policy: AuthPolicy,
    ) -> None:
        self._uow, self._hasher, self._attempts, self._policy = uow, hasher, attempts, policy
        self._decoy_hash: str | None = None

    async def check(self, email: str, password: str, client: str | None) -> User:
        email = email.strip().lower()
        keys = [(f"login:acct:{email}", self._policy.max_failures_per_account)]
        if client:
            keys.append((f"login:addr:{client}", self._policy.max_failures_per_address))
        for key, limit in keys:
            count, retry_after = await self._attempts.status(key)
            if count >= limit:
                raise TooManyAttempts(retry_after)
        user = None
        if email and password:
            async with self._uow.begin(read_only=True) as tx:
                user = await tx.users.get_by_email(email)
        if user is None:
            await self._spend_equal_time(password)
            ok = False
        else:
            ok = await self._hasher.verify(password, user.password_hash)
        if not ok or user is None:
            window = int(self._policy.failure_window.total_seconds())
            for key, _ in keys:
                await self._attempts.record(key, window)
            raise InvalidCredentials()
        await self._attempts.clear(keys[0][0])
        if not user.active:
            raise AccountDisabled()
        return user

    async def _spend_equal_time(self, password: str) -> None:
        if self._decoy_hash is None:
            self._decoy_hash = await self._hasher.hash("decoy password, never matches")
        await self._hasher.verify(password, self._decoy_hash)


@dataclass(frozen=True, slots=True)
class Credentials:
    token: str | None = None
    api_key: str | None = None


class Authenticate:
    """Turn a presented access token or API key into the calling Actor.

    - the token must be valid, unexpired, signed by us and not older than the user's last
      "log out everywhere"; the user must exist and be active
    - an API key must exist, not be revoked, belong to an active user, and carry the scope
      the route needs; some routes take a login session only
    """

    def __init__(
        self, uow: UnitOfWork, tokens: TokenIssuer, clock: Clock, policy: AuthPolicy
    ) -> None:
        self._uow, self._tokens, self._clock, self._policy = uow, tokens, clock, policy

    async def execute(
        self,
        credentials: Credentials | str | None,
        *,
        scope: Scope | None = None,
        session_only: bool = False,
    ) -> Actor:
        if not isinstance(credentials, Credentials):
            credentials = Credentials(token=credentials)
        if credentials.token:
            return await self._by_token(credentials.token)
        if credentials.api_key:
            if session_only:
                raise SessionRequired()
            return await self._by_api_key(credentials.api_key, scope)
        raise MissingToken()

    async def _by_token(self, token: str) -> Actor:
        claims = self._tokens.verify(token)
        async with self._uow.begin(read_only=True) as tx:
            user = await tx.users.get(claims.user_id)
        if user is None or user.token_version != claims.version:
            raise InvalidToken()
        if not user.active:
            raise AccountDisabled()
        return Actor(user.id, token, user.role)

    async def _by_api_key(self, raw: str, scope: Scope | None) -> Actor:
        prefix = api_key_prefix(raw)
        if prefix is None:
            raise InvalidApiKey()
        now = self._clock.now()
        async with self._uow.begin(read_only=True) as tx:
            key = await tx.api_keys.get_by_prefix(prefix)
            if key is None or key.revoked_at is not None:
                raise InvalidApiKey()
            if not hmac.compare_digest(key.secret_hash, digest(raw)):
                raise InvalidApiKey()
            user = await tx.users.get(key.user_id)
        if user is None or not user.active:
            raise AccountDisabled()
        if scope is not None and scope not in key.scopes:
            raise MissingScope(scope.value)
        last = key.last_used_at
        if last is None or now - last >= self._policy.api_key_touch_interval:
            async with self._uow.begin() as tx:  # at most once a minute: no write per call
                await tx.api_keys.touch(key.id, now)
                await tx.commit()
        return Actor(user.id, raw, user.role, key.scopes)


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    scope: str = ""


@dataclass(frozen=True, slots=True)
class TokenRequest:
    grant_type: str | None
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None
    client: str | None = None


async def _start_session(
    tx: Transaction, user: User, now_clock: Clock, policy: AuthPolicy, family: uuid.UUID
) -> str:
    raw = new_secret()
    now = now_clock.now()
    await tx.refresh_tokens.add(
        RefreshToken(uuid.uuid4(), family, user.id, digest(raw), now, now + policy.refresh_ttl)
    )
    return raw


class GrantToken:
    """The OAuth2 token endpoint (RFC 6749): password and refresh_token grants.

    - `password`: `username` is the email; the same brute-force limits as login apply
    - `refresh_token`: every refresh answers a new refresh token and retires the one given;
      presenting a retired (or revoked) one again revokes its whole family (every token
      descended from the same login) and fails with invalid_grant
    - rotation is atomic: of two refreshes racing with one token, one wins and the other
      counts as reuse, which revokes the family (both tabs then log in again); no grace window
    - deactivated users get invalid_grant
    """

    def __init__(
        self,
        uow: UnitOfWork,
        passwords: PasswordCheck,
        tokens: TokenIssuer,
        clock: Clock,
        policy: AuthPolicy,
    ) -> None:
        self._uow, self._passwords, self._tokens = uow, passwords, tokens
        self._clock, self._policy = clock, policy

    async def execute(self, request: TokenRequest) -> TokenPair:
        if not request.grant_type:
            raise InvalidRequest("grant_type is required")
        if request.grant_type == "password":
            return await self._password(request)
        if request.grant_type == "refresh_token":
            return await self._refresh(request)
        raise UnsupportedGrantType(f"grant_type '{request.grant_type[:40]}' is not supported")

    def _pair(self, user: User, refresh: str) -> TokenPair:
        ttl = self._policy.access_ttl
        access = self._tokens.issue(user.id, version=user.token_version, ttl=ttl)
        return TokenPair(access, int(ttl.total_seconds()), refresh)

    async def _password(self, request: TokenRequest) -> TokenPair:
        if not request.username or not request.password:
            raise InvalidRequest("username and password are required")
        try:
            user = await self._passwords.check(request.username, request.password, request.client)
        except (InvalidCredentials, AccountDisabled) as exc:
            raise InvalidGrant("invalid username or password") from exc
        async with self._uow.begin() as tx:
            refresh = await _start_session(tx, user, self._clock, self._policy, uuid.uuid4())
            await tx.commit()
        return self._pair(user, refresh)

    async def _refresh(self, request: TokenRequest) -> TokenPair:
        if not request.refresh_token:
            raise InvalidRequest("refresh_token is required")
        if len(request.refresh_token) > 512:
            raise InvalidGrant("refresh token is invalid")
        now = self._clock.now()
        reused = False
        user: User | None = None
        async with self._uow.begin() as tx:
            token = await tx.refresh_tokens.get_by_hash(digest(request.refresh_token))
            if token is None or token.expires_at <= now:
                raise InvalidGrant("refresh token is invalid or expired")
            if token.used_at is not None or token.revoked_at is not None:
                reused = True
            elif not await tx.refresh_tokens.mark_used(token.id, now):
                reused = True  # lost a race with another refresh of the same token
            if reused:
                await tx.refresh_tokens.revoke_family(token.family_id, now)
                await tx.commit()
            else:
                user = await tx.users.get(token.user_id)
                if user is None or not user.active:
                    raise InvalidGrant("refresh token is invalid or expired")
                refresh = await _start_session(tx, user, self._clock, self._policy, token.family_id)
                await tx.commit()
        if reused or user is None:
            raise InvalidGrant("refresh token was already used; the session is revoked")
        return self._pair(user, refresh)


class RevokeToken:
    """RFC 7009 revocation: revokes the refresh token's whole family. Unknown tokens are
    ignored (the endpoint always answers 200, so it tells nothing about a token)."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, raw: str | None) -> None:
        if not raw or len(raw) > 512:
            return
        async with self._uow.begin() as tx:
            token = await tx.refresh_tokens.get_by_hash(digest(raw))
            if token is not None:
                await tx.refresh_tokens.revoke_family(token.family_id, self._clock.now())
                await tx.commit()


class LogOutEverywhere:
    """Revoke every refresh token of the caller; every access token issued before now stops
    working at once (the user's token version moves on)."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, actor: Actor) -> None:
        async with self._uow.begin() as tx:
            await tx.refresh_tokens.revoke_all_for_user(actor.user_id, self._clock.now())
            await tx.users.bump_token_version(actor.user_id)
            await tx.commit()


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    id: uuid.UUID
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    key: str | None = None  # the full key: only in the answer to its creation

    @classmethod
    def of(cls, key: ApiKey, raw: str | None = None) -> ApiKeyView:
        return cls(
            key.id,
            key.name,
            key.prefix,
            tuple(sorted(s.value for s in key.scopes)),
            key.created_at,
            key.last_used_at,
            raw,
        )


class CreateApiKey:
    """Create an API key for the caller; the key is shown once, only its hash is kept.

    - `name`: 1-100 characters; `scopes`: at least one of the known scopes
    - needs a login session (a key cannot mint keys)
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, actor: Actor, name: str, scopes: Sequence[str]) -> ApiKeyView:
        if actor.via_api_key:
            raise SessionRequired()
        label, granted = api_key_name_of(name), scopes_of(scopes)
        prefix, raw = new_api_key_secret()
        now = self._clock.now()
        key = ApiKey(uuid.uuid4(), actor.user_id, label, prefix, digest(raw), granted, now)
        async with self._uow.begin() as tx:
            await tx.api_keys.add(key)
            await tx.commit()
        return ApiKeyView.of(key, raw)


class ListApiKeys:
    """The caller's live API keys, newest first, without their secrets."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, actor: Actor) -> list[ApiKeyView]:
        if actor.via_api_key:
            raise SessionRequired()
        async with self._uow.begin() as tx:
            keys = await tx.api_keys.list_for_user(actor.user_id)
        return [ApiKeyView.of(k) for k in keys]


class RevokeApiKey:
    """Revoke one of the caller's API keys; it stops working at once."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, actor: Actor, key_id: uuid.UUID) -> None:
        if actor.via_api_key:
            raise SessionRequired()
        async with self._uow.begin() as tx:
            key = await tx.api_keys.get(key_id)
            if key is None or key.user_id != actor.user_id or key.revoked_at is not None:
                raise ApiKeyNotFound()
            await tx.api_keys.revoke(key_id, self._clock.now())
            await tx.commit()


def _ensure_admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN or actor.via_api_key:
        raise AdminRequired()


@dataclass(frozen=True, slots=True)
class UserPage:
    users: tuple[User, ...]
    next_cursor: UserId | None


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

    - deactivating revokes the user's refresh tokens; their access tokens and API keys stop
      working at once (every request checks the account)
    - admins cannot demote or deactivate themselves (there must be someone left to undo it)
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
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
            await tx.commit()
            updated = await tx.users.get(user.id)
        assert updated is not None
        return updated


class CreateAdmin:
    """Create an admin account (for `conduit create-admin`), or promote the existing account
    with that email and username."""

    def __init__(self, uow: UnitOfWork, hasher: PasswordHasher, clock: Clock) -> None:
        self._uow, self._hasher, self._clock = uow, hasher, clock

    async def execute(self, email: str, username: str, password: str) -> User:
        email, username = email_of(email), username_of(username)
        password_hash = await self._hasher.hash(check_password(password))
        now = self._clock.now()
        async with self._uow.begin() as tx:
            existing = await tx.users.get_by_email(email)
            if existing is not None and existing.username == username:
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


class PublishKeys:
    """The JWK Set other services use to verify our access tokens (asymmetric signing only)."""

    def __init__(self, keys: KeyPublisher) -> None:
        self._keys = keys

    async def execute(self) -> dict[str, Any]:
        return self._keys.jwks()
