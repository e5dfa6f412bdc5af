"""Ports of the auth context."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from core.auth.model import AccessClaims, ApiKey, RefreshToken
from core.shared.ids import UserId
from core.users.model import Role, User
from core.users.ports import UsersTransaction


class TokenIssuer(Protocol):
    """Makes and checks signed access tokens for a user id and token version.

    Contract: `verify(issue(u, version=v))` gives back (u, v) until the token expires; a
    tampered, foreign, expired or not-yet-valid token raises InvalidToken.
    """

    def issue(self, user_id: UserId, *, version: int = 0, ttl: timedelta | None = None) -> str: ...
    def verify(self, token: str) -> AccessClaims: ...


class CallerCache(Protocol):
    """The accounts of signed-in callers as the caller lookup last read them, in this process
    (contract and race tests: tests/unit/test_caller_cache.py).

    - `get` answers a user `put` stored, until `forget` of that user, a flush (the adapter's
      own: its change signal lost) or the time to live; else None
    - `ticket` is taken before the lookup reads the database; `put` stores only if no
      `forget` or flush happened since that ticket was taken, so a row read before a change
      is never stored after the change's `forget`. None: store nothing (the cache is off or
      cannot hear changes right now)
    - `forget` runs after a commit that changed those users; it returns once this process
      forgot them and, as far as the adapter can tell, the other processes were told
    """

    def get(self, user_id: UserId) -> User | None: ...
    def ticket(self) -> int | None: ...
    def put(self, user: User, ticket: int) -> None: ...
    async def forget(self, user_ids: Collection[UserId]) -> None: ...


class RefreshTokenRepository(Protocol):
    """Refresh tokens by hash. `mark_used` is atomic: of two concurrent calls for one token,
    exactly one returns True. Revocations are idempotent."""

    async def add(self, token: RefreshToken) -> None: ...
    async def get_by_hash(self, token_hash: str) -> RefreshToken | None: ...
    async def mark_used(self, token_id: uuid.UUID, now: datetime) -> bool: ...
    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None: ...
    async def revoke_all_for_user(self, user_id: UserId, now: datetime) -> None: ...


class ApiKeyRepository(Protocol):
    """API keys. Prefixes are unique; `list_for_user` is newest first, without revoked keys.
    Revocations are idempotent and keep the first revocation time; `revoke_all_for_user`
    touches that user's keys only."""

    async def add(self, key: ApiKey) -> None: ...
    async def get(self, key_id: uuid.UUID) -> ApiKey | None: ...
    async def get_by_prefix(self, prefix: str) -> ApiKey | None: ...
    async def list_for_user(self, user_id: UserId) -> list[ApiKey]: ...
    async def revoke(self, key_id: uuid.UUID, now: datetime) -> None: ...
    async def revoke_all_for_user(self, user_id: UserId, now: datetime) -> None: ...
    async def touch(self, key_id: uuid.UUID, now: datetime) -> None: ...


class AuthTransaction(UsersTransaction, Protocol):
    """What the auth context's use cases need of a transaction."""

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...


class AttemptCounter(Protocol):
    """Counts failures per key, each key in a fixed window that starts at its first failure.

    Contract: `record` adds one failure to every key given (with that key's window in
    seconds) in one call and returns each count including it, in order; concurrent records
    are all counted, and a later failure does not extend a window. `status` gives (count,
    seconds until the window ends) for each key asked, in order, and (0, 0) for an unknown
    or expired key. `clear` forgets a key. Real adapters answer each call in one round trip.
    """

    async def record(self, windows: Sequence[tuple[str, int]]) -> list[int]: ...
    async def status(self, keys: Sequence[str]) -> list[tuple[int, int]]: ...
    async def clear(self, key: str) -> None: ...


class KnownAddresses(Protocol):
    """The addresses each account logged in from successfully, for a while.

    Contract: after `remember(account, address, ttl_s)`, `is_known(account, address)` is True
    for `ttl_s` seconds, and remembering it again starts that time afresh; it is False for
    an address never remembered for that account, for another account, and once the time
    has passed. Shared by every process when the adapter is (Redis).
    """

    async def remember(self, account: str, address: str, ttl_s: int) -> None: ...
    async def is_known(self, account: str, address: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class UserFilter:
    role: Role | None = None
    active: bool | None = None
    query: str | None = None  # substring of username or email, case-insensitive


class UserDirectory(Protocol):
    """Admin listing: users in id order (ids are time-ordered), after a cursor id."""

    async def list_users(
        self, filters: UserFilter, after: UserId | None, limit: int
    ) -> Sequence[User]: ...


class KeyPublisher(Protocol):
    """The public keys that verify our tokens, as a JWK Set (empty when signing is HMAC)."""

    def jwks(self) -> dict[str, Any]: ...
