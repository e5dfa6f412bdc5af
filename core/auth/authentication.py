"""Authentication: who is calling, from an access token or an API key."""

from __future__ import annotations

import hmac
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
from core.auth.ports import AuthTransaction, TokenIssuer
from core.shared.clock import Clock
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
        # Asked on every request and never cached in the process: an account deactivated,
        # given another role or logged out everywhere through any process is refused or
        # re-roled by all of them on their next request. A read-only unit is cheap for it:
        # one indexed lookup, with no transaction round trips on the SQL adapters.
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
