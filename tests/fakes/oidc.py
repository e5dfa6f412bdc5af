"""FakeOpenIdProviders: scripted OpenID providers for the use-case and API tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from core.identities.errors import AuthorizationCodeRejected, UnknownProvider
from core.identities.model import ProvidedIdentity, ProviderInfo
from core.shared.errors import DomainError

ACME = ProviderInfo("acme", "https://id.acme.test", frozenset({"acme.test"}))
OTHER = ProviderInfo("other", "https://id.other.test")


@dataclass
class Redemption:
    provider: str
    code: str
    callback_uri: str
    code_verifier: str
    nonce: str


@dataclass
class FakeOpenIdProviders:
    """Authorization URLs carry what was asked (state, nonce, verifier: a real provider
    would get only its challenge). `redeem` answers the identity a test put under that code
    (`who`), or raises `failure`; the nonce it was given is recorded with the rest."""

    providers: Sequence[ProviderInfo] = (ACME, OTHER)
    who: dict[str, ProvidedIdentity] = field(default_factory=dict)
    failure: DomainError | None = None
    redeemed: list[Redemption] = field(default_factory=list)

    def configured(self) -> Sequence[ProviderInfo]:
        return self.providers

    def _known(self, provider: str) -> ProviderInfo:
        for p in self.providers:
            if p.id == provider:
                return p
        raise UnknownProvider()

    async def authorization_url(
        self, provider: str, *, callback_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        info = self._known(provider)
        if self.failure is not None:
            raise self.failure
        query = {"redirect_uri": callback_uri, "state": state, "nonce": nonce}
        return f"{info.issuer}/authorize?{urlencode(query)}"

    async def redeem(
        self, provider: str, *, code: str, callback_uri: str, code_verifier: str, nonce: str
    ) -> ProvidedIdentity:
        self._known(provider)
        self.redeemed.append(Redemption(provider, code, callback_uri, code_verifier, nonce))
        if self.failure is not None:
            raise self.failure
        if code not in self.who:
            raise AuthorizationCodeRejected()
        return self.who[code]

    def person(self, code: str, subject: str, **claims: object) -> ProvidedIdentity:
        """`code` signs in `subject` of acme, with these claims."""
        identity = ProvidedIdentity(ACME.issuer, subject, **claims)  # type: ignore[arg-type]
        self.who[code] = identity
        return identity
