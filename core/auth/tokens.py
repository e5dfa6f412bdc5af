"""OAuth2 tokens: the token endpoint's grants, revocation, log out everywhere, and the JWK Set.

PublishKeys only forwards to the KeyPublisher port.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from core.auth.errors import (
    InvalidCredentials,
    InvalidGrant,
    InvalidRequest,
    UnsupportedGrantType,
)
from core.auth.model import AuthPolicy, RefreshToken, digest, new_secret
from core.auth.ports import AuthTransaction, KeyPublisher, TokenIssuer
from core.auth.sessions import PasswordCheck
from core.auth.views import TokenPair
from core.shared.clock import Clock
from core.shared.events import SessionsRevoked
from core.shared.uow import UnitOfWork
from core.users.model import Actor, User


@dataclass(frozen=True, slots=True)
class TokenRequest:
    grant_type: str | None
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None
    client: str | None = None


async def start_session(
    tx: AuthTransaction, user: User, now_clock: Clock, policy: AuthPolicy, family: uuid.UUID
) -> str:
    """Store a new refresh token of `family` for the user; returns the token itself."""
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
    - deactivated users get invalid_grant: for the password grant the same answer as a wrong
      password, whichever password is sent
    """

    def __init__(
        self,
        uow: UnitOfWork[AuthTransaction],
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
        except InvalidCredentials as exc:
            raise InvalidGrant("invalid username or password") from exc
        async with self._uow.begin() as tx:
            refresh = await start_session(tx, user, self._clock, self._policy, uuid.uuid4())
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
                refresh = await start_session(tx, user, self._clock, self._policy, token.family_id)
                await tx.commit()
        if reused or user is None:
            raise InvalidGrant("refresh token was already used; the session is revoked")
        return self._pair(user, refresh)


class RevokeToken:
    """RFC 7009 revocation: revokes the refresh token's whole family. Unknown tokens are
    ignored: the caller sees the same outcome either way, so it learns nothing about a token."""

    def __init__(self, uow: UnitOfWork[AuthTransaction], clock: Clock) -> None:
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
    working at once (the user's token version moves on), and the caller's open WebSockets
    are closed (4401)."""

    def __init__(self, uow: UnitOfWork[AuthTransaction], clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, actor: Actor) -> None:
        async with self._uow.begin() as tx:
            await tx.refresh_tokens.revoke_all_for_user(actor.user_id, self._clock.now())
            await tx.users.bump_token_version(actor.user_id)
            tx.record(SessionsRevoked(actor.user_id))  # open sockets close, in every process
            await tx.commit()


class PublishKeys:
    """The JWK Set other services use to verify our access tokens (asymmetric signing only)."""

    def __init__(self, keys: KeyPublisher) -> None:
        self._keys = keys

    async def execute(self) -> dict[str, Any]:
        return self._keys.jwks()
