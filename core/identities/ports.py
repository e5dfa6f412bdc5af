"""Ports of the identities context: providers, linked identities, one-time values."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from core.auth.ports import AuthTransaction
from core.identities.model import Identity, ProvidedIdentity, ProviderInfo
from core.shared.ids import UserId


class OpenIdProviders(Protocol):
    """The configured OpenID providers, and the two calls a sign-in makes to one.

    `authorization_url` gives the provider's authorization endpoint (from its discovery
    document) with the authorization-code request: our client id, `callback_uri`, scopes,
    `state`, `nonce`, and the S256 PKCE challenge of `code_verifier`.
    `redeem` exchanges the code at the token endpoint (with the verifier and the client's
    credentials) and checks the ID token: signature by a key of the provider's JWKS (fetched
    again once when the token names an unknown `kid`), `iss`, `aud`, `exp`, `iat`, `nonce`,
    `azp` when present; then answers who signed in.

    Both raise UnknownProvider for an id not configured, ProviderTimeout when the provider
    does not answer within the adapter's bound, ProviderUnavailable when it fails or answers
    nonsense, AuthorizationCodeRejected when it refuses the code, IdTokenRejected when the
    ID token fails a check. Nothing is cached but discovery and keys.
    """

    def configured(self) -> Sequence[ProviderInfo]: ...

    async def authorization_url(
        self, provider: str, *, callback_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str: ...

    async def redeem(
        self, provider: str, *, code: str, callback_uri: str, code_verifier: str, nonce: str
    ) -> ProvidedIdentity: ...


class OneTimeStore(Protocol):
    """Short-lived, single-use values by key (pending sign-ins, one-time codes), shared by
    every process (database or Redis, never one process's memory).

    Contract: after `put(k, v, ttl=t, now=n)`, the first `take(k, now=m)` with m < n + t
    returns v and every later one None; a take after the ttl, or of a key never put, returns
    None; of concurrent takes of one key exactly one returns v (an atomic consume). Keys are
    digests chosen by the caller; putting a key twice is not expected (keys are random).
    """

    async def put(self, key: str, value: str, *, ttl: timedelta, now: datetime) -> None: ...
    async def take(self, key: str, *, now: datetime) -> str | None: ...


class IdentityRepository(Protocol):
    """Linked identities. Contract: `add` then `get(issuer, subject)` returns it; one
    (issuer, subject) is linked to at most one account (a second add fails at latest on
    commit with IdentityTaken); `list_for_user` is oldest first and that user's only;
    `delete` removes that user's identity and says whether it did."""

    async def add(self, identity: Identity) -> None: ...
    async def get(self, issuer: str, subject: str) -> Identity | None: ...
    async def list_for_user(self, user_id: UserId) -> list[Identity]: ...
    async def delete(self, user_id: UserId, identity_id: uuid.UUID) -> bool: ...


class IdentitiesTransaction(AuthTransaction, Protocol):
    """What the identities context's use cases need of a transaction."""

    @property
    def identities(self) -> IdentityRepository: ...
