"""Signing in with an OpenID provider: the login redirect, the callback, the code exchange."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.auth.model import AuthPolicy
from core.auth.ports import TokenIssuer
from core.auth.tokens import start_session
from core.auth.views import TokenPair
from core.identities.errors import (
    AccountInactive,
    EmailRequired,
    InvalidSignInCode,
    InvalidState,
    LinkNeedsSignIn,
    ProviderRefused,
    RedirectNotAllowed,
    UnknownProvider,
)
from core.identities.model import (
    Identity,
    OidcPolicy,
    PendingSignIn,
    ProvidedIdentity,
    ProviderInfo,
    Purpose,
    SignInGrant,
    code_key,
    email_or_none,
    image_or_none,
    new_token,
    state_key,
    username_bases,
    with_query,
    with_suffix,
)
from core.identities.ports import IdentitiesTransaction, OneTimeStore, OpenIdProviders
from core.identities.views import SignedIn
from core.shared.clock import Clock
from core.shared.ids import UserId, new_user_id
from core.shared.uow import UnitOfWork
from core.users.errors import UsernameTaken
from core.users.model import NO_PASSWORD, User
from core.users.views import UserView

# A derived username is tried as is, then with this many random suffixes; a race lost on
# commit (someone took it meanwhile) starts over, this many times.
_SUFFIX_TRIES = 20
_COMMIT_TRIES = 3


def provider_of(providers: OpenIdProviders, provider_id: str) -> ProviderInfo:
    for provider in providers.configured():
        if provider.id == provider_id:
            return provider
    raise UnknownProvider()


class ListProviders:
    """The identity providers one can sign in with (ids and issuers; never secrets)."""

    def __init__(self, providers: OpenIdProviders) -> None:
        self._providers = providers

    async def execute(self) -> Sequence[ProviderInfo]:
        return self._providers.configured()


@dataclass(frozen=True, slots=True)
class StartSignInInput:
    provider: str
    redirect_uri: str
    callback_uri: str
    link_user: UserId | None = None


class StartSignIn:
    """Begin signing in with a provider: the URL of its authorization endpoint.

    - an unknown provider is 404; `redirect_uri` (where the browser returns, with a one-time
      code) must be one of OIDC_REDIRECT_ALLOWLIST exactly
    - the request carries `state`, `nonce` and a PKCE S256 challenge; the state is kept
      server-side (database, or Redis when configured) for a few minutes, for one use
    """

    def __init__(
        self, providers: OpenIdProviders, store: OneTimeStore, clock: Clock, policy: OidcPolicy
    ) -> None:
        self._providers, self._store, self._clock, self._policy = providers, store, clock, policy

    async def execute(self, data: StartSignInInput) -> str:
        provider = provider_of(self._providers, data.provider)
        if not self._policy.allows(data.redirect_uri):
            raise RedirectNotAllowed()
        pending = PendingSignIn(
            provider=provider.id,
            redirect_uri=data.redirect_uri,
            callback_uri=data.callback_uri,
            nonce=new_token(),
            code_verifier=new_token(),
            link_user=data.link_user,
        )
        state = new_token()
        # The provider first: when it is down, nothing is kept.
        url = await self._providers.authorization_url(
            provider.id,
            callback_uri=pending.callback_uri,
            state=state,
            nonce=pending.nonce,
            code_verifier=pending.code_verifier,
        )
        await self._store.put(
            state_key(state), pending.dumps(), ttl=self._policy.state_ttl, now=self._clock.now()
        )
        return url


@dataclass(frozen=True, slots=True)
class FinishSignInInput:
    provider: str
    state: str | None
    code: str | None
    error: str | None = None


class FinishSignIn:
    """The provider's callback: check the state, redeem the code, find or make the account,
    and send the browser back to the front end with a one-time code (never a token in a URL).

    - the state is consumed at once: missing, expired or replayed is 400
    - the ID token's signature, `iss`, `aud`, `exp`, `nonce` and `azp` are checked
    - a linked subject signs its account in; a new one makes an account (username derived
      from the provider's preferred username, name or email, made to obey the username rules
      and unique; image from `picture`; no password)
    - an account with the same email is linked only if the provider says `email_verified`
      and the email's domain is one of that provider's `trusted_email_domains`; otherwise
      403: sign in to that account and link from POST /api/user/identities
    - the code is good for 60 seconds, once; a provider down or slow is 502/504 and nothing
      is created
    """

    def __init__(
        self,
        uow: UnitOfWork[IdentitiesTransaction],
        providers: OpenIdProviders,
        store: OneTimeStore,
        clock: Clock,
        policy: OidcPolicy,
    ) -> None:
        self._uow, self._providers, self._store = uow, providers, store
        self._clock, self._policy = clock, policy

    async def execute(self, data: FinishSignInInput) -> str:
        provider = provider_of(self._providers, data.provider)
        if not data.state or len(data.state) > 200:
            raise InvalidState()
        raw = await self._store.take(state_key(data.state), now=self._clock.now())
        if raw is None:
            raise InvalidState()
        pending = PendingSignIn.loads(raw)
        if pending.provider != provider.id:
            raise InvalidState()
        if data.error:
            raise ProviderRefused(data.error)
        if not data.code:
            raise InvalidSignInCode()
        identity = await self._providers.redeem(
            provider.id,
            code=data.code,
            callback_uri=pending.callback_uri,
            code_verifier=pending.code_verifier,
            nonce=pending.nonce,
        )
        if pending.link_user is not None:
            grant = SignInGrant(Purpose.LINK, pending.link_user, provider.id, identity)
        else:
            user_id = await self._account_for(provider, identity)
            grant = SignInGrant(Purpose.SIGN_IN, user_id, provider.id)
        code = new_token()
        await self._store.put(
            code_key(code), grant.dumps(), ttl=self._policy.code_ttl, now=self._clock.now()
        )
        return with_query(pending.redirect_uri, code=code)

    async def _account_for(self, provider: ProviderInfo, identity: ProvidedIdentity) -> UserId:
        for attempt in range(_COMMIT_TRIES):
            try:
                return await self._find_or_create(provider, identity)
            except UsernameTaken:  # taken between our check and our commit: pick again
                if attempt == _COMMIT_TRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def _find_or_create(self, provider: ProviderInfo, identity: ProvidedIdentity) -> UserId:
        now = self._clock.now()
        email = email_or_none(identity.email)
        async with self._uow.begin() as tx:
            linked = await tx.identities.get(identity.issuer, identity.subject)
            if linked is not None:
                user = await tx.users.get(linked.user_id)
                if user is None or not user.active:
                    raise AccountInactive()
                return user.id
            if email is None:
                raise EmailRequired()
            holder = await tx.users.get_by_email(email)
            if holder is not None:
                # The one rule against takeover: only a provider trusted for the domain, and
                # saying it verified the address, may sign in to an account it did not make.
                if not provider.vouches_for(email, verified=identity.email_verified):
                    raise LinkNeedsSignIn()
                if not holder.active:
                    raise AccountInactive()
                user_id = holder.id
            else:
                user = User(
                    new_user_id(),
                    await _free_username(tx, identity),
                    email,
                    NO_PASSWORD,
                    "",
                    image_or_none(identity.picture),
                    now,
                    now,
                )
                await tx.users.add(user)
                user_id = user.id
            await tx.identities.add(_identity(provider, identity, user_id, now))
            await tx.commit()
            return user_id


def _identity(
    provider: ProviderInfo, identity: ProvidedIdentity, user_id: UserId, now: datetime
) -> Identity:
    return Identity(
        uuid.uuid4(),
        user_id,
        provider.id,
        identity.issuer,
        identity.subject,
        email_or_none(identity.email),
        now,
    )


async def _free_username(tx: IdentitiesTransaction, identity: ProvidedIdentity) -> str:
    """The first derived username no account has (same key or look-alike), else one of them
    with a random suffix."""
    bases = list(username_bases(identity))
    for base in bases:
        if await tx.users.get_lookalike(base) is None:
            return base
    for _ in range(_SUFFIX_TRIES):
        candidate = with_suffix(bases[0])
        if await tx.users.get_lookalike(candidate) is None:
            return candidate
    raise UsernameTaken()


class ExchangeSignInCode:
    """Trade the one-time code from the callback for what POST /auth/token answers (access
    and refresh tokens) plus the RealWorld user with its token. Once, within 60 seconds."""

    def __init__(
        self,
        uow: UnitOfWork[IdentitiesTransaction],
        store: OneTimeStore,
        tokens: TokenIssuer,
        clock: Clock,
        policy: AuthPolicy,
    ) -> None:
        self._uow, self._store, self._tokens = uow, store, tokens
        self._clock, self._policy = clock, policy

    async def execute(self, code: str) -> SignedIn:
        if not code or len(code) > 200:
            raise InvalidSignInCode()
        raw = await self._store.take(code_key(code), now=self._clock.now())
        if raw is None:
            raise InvalidSignInCode()
        grant = SignInGrant.loads(raw)
        if grant.purpose is not Purpose.SIGN_IN:
            raise InvalidSignInCode()
        async with self._uow.begin() as tx:
            user = await tx.users.get(grant.user_id)
            if user is None or not user.active:
                raise InvalidSignInCode()
            refresh = await start_session(tx, user, self._clock, self._policy, uuid.uuid4())
            await tx.commit()
        version = user.token_version
        token = self._tokens.issue(user.id, version=version, ttl=self._policy.realworld_ttl)
        ttl = self._policy.access_ttl
        access = self._tokens.issue(user.id, version=version, ttl=ttl)
        return SignedIn(
            UserView.of(user, token), TokenPair(access, int(ttl.total_seconds()), refresh)
        )
