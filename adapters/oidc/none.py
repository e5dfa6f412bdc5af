"""NoOpenIdProviders: OIDC_PROVIDERS is empty. Its own module, so a server without providers
never imports the OpenID client (adapters/oidc/providers.py: Authlib and its JOSE pieces)."""

from __future__ import annotations

from collections.abc import Sequence

from core.identities.errors import UnknownProvider
from core.identities.model import ProvidedIdentity, ProviderInfo


class NoOpenIdProviders:
    """OpenIdProviders when OIDC_PROVIDERS is empty: none to list, every id unknown."""

    def configured(self) -> Sequence[ProviderInfo]:
        return ()

    async def authorization_url(
        self, provider: str, *, callback_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        raise UnknownProvider()

    async def redeem(
        self, provider: str, *, code: str, callback_uri: str, code_verifier: str, nonce: str
    ) -> ProvidedIdentity:
        raise UnknownProvider()
