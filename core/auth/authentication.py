"""Authentication: who is calling, from an access token or an API key."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from core.auth.errors import (
    AccountDisabled,
    InvalidApiKey,
    InvalidToken,
    MissingScope,
    MissingToken,
    SessionRequired,
)
from core.auth.model import AuthPolicy, api_key_prefix, digest
from core.auth.ports import AuthTransaction, CallerCache, TokenIssuer
from core.shared.clock import Clock
from core.shared.events import AccountChanged, DomainEvent
from core.shared.uow import UnitOfWork
from core.users.model import Actor, Scope


@dataclass(frozen=True, slots=True)
class Credentials:
    token: str | None = None
    api_key: str | None = None


class Authenticate:
    """Turn a presented access token or API key into the calling Actor.

    - the token must be valid, unexpired, signed by us and not older than the user's last
      "log out everywhere"; the user must exist and be active
    - an API key must exist, not be revoked, belong to an active user, and carry the scope
      the operation needs; some operations take a login session only
    """

    def __init__(
        self,
        uow: UnitOfWork[AuthTransaction],
        tokens: TokenIssuer,
        clock: Clock,
        policy: AuthPolicy,
        callers: CallerCache,
    ) -> None:
        self._uow, self._tokens, self._clock, self._policy = uow, tokens, clock, policy
        self._callers = callers

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
        # The account as this process last read it, when its cache can hear every change
        # (CallerCache: forgotten on commit in every process; see the README's "Caller
        # cache"). Otherwise one indexed lookup, with no transaction round trips on SQL.
        user = self._callers.get(claims.user_id)
        if user is None:
            ticket = self._callers.ticket()  # before the read: a change after it voids it
            async with self._uow.begin(read_only=True) as tx:
                user = await tx.users.get(claims.user_id)
            if user is not None and ticket is not None:
                self._callers.put(user, ticket)
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


class ForgetChangedCallers:
    """CommitListener: a committed change of an account makes the caller cache forget it."""

    def __init__(self, callers: CallerCache) -> None:
        self._callers = callers

    async def committed(self, events: Sequence[DomainEvent]) -> None:
        changed = {e.user_id for e in events if isinstance(e, AccountChanged)}
        if changed:
            await self._callers.forget(changed)
