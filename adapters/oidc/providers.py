"""HttpOpenIdProviders: the OpenIdProviders port over httpx2, authlib and joserfc.

Who does what:
- HTTP: one `httpx2.AsyncClient` of ours (built and closed by the lifespan), for discovery,
  the JWKS and the token request. Authlib's own clients are not used: its httpx integration
  imports `httpx`, a second HTTP client library this project does not otherwise need.
- authlib: the protocol pieces, PKCE's S256 challenge (RFC 7636) and the OpenID Connect ID
  token rules for the code flow (`CodeIDToken`: iss, aud, exp, iat, nonce, azp, at_hash).
- joserfc (authlib's JOSE successor): the ID token's signature, with the algorithms pinned
  to asymmetric ones the provider announces and keys from its JWKS.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import httpx2
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import KeySet
from loguru import logger

from core.identities.errors import (
    AuthorizationCodeRejected,
    IdTokenRejected,
    ProviderTimeout,
    ProviderUnavailable,
    UnknownProvider,
)
from core.identities.model import ProvidedIdentity, ProviderInfo
from core.shared.clock import Clock

# Asymmetric signatures only: an HMAC ID token is keyed with our client secret, and "none"
# is no signature at all.
SIGNING_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "Ed25519",
)
MAX_DOCUMENT_BYTES = 512 * 1024
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """One entry of OIDC_PROVIDERS."""

    id: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    trusted_email_domains: frozenset[str] = frozenset()

    @property
    def info(self) -> ProviderInfo:
        return ProviderInfo(self.id, self.issuer, self.trusted_email_domains)


@dataclass
class _Cached:
    metadata: dict[str, Any] | None = None
    metadata_until: float = 0.0
    keys: KeySet | None = None
    lock: asyncio.Lock | None = None


class HttpOpenIdProviders:
    """Discovery documents are cached for `metadata_ttl_s`; a provider's JWKS until an ID
    token names a `kid` it lacks, then fetched again once (key rotation). Every call is
    bounded by `timeout_s` in all (ProviderTimeout past it)."""

    def __init__(
        self,
        providers: Sequence[ProviderConfig],
        client: httpx2.AsyncClient,
        clock: Clock,
        *,
        timeout_s: float = 10.0,
        metadata_ttl_s: float = 3600.0,
        leeway_s: int = 60,
    ) -> None:
        self._configs = {p.id: p for p in providers}
        self._client, self._clock = client, clock
        self._timeout_s, self._metadata_ttl_s, self._leeway_s = timeout_s, metadata_ttl_s, leeway_s
        self._cache: dict[str, _Cached] = {p.id: _Cached() for p in providers}

    def configured(self) -> Sequence[ProviderInfo]:
        return [config.info for config in self._configs.values()]

    async def authorization_url(
        self, provider: str, *, callback_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        config = self._config(provider)

        async def build() -> str:
            metadata = await self._metadata(config)
            query = urlencode(
                {
                    "response_type": "code",
                    "client_id": config.client_id,
                    "redirect_uri": callback_uri,
                    "scope": " ".join(config.scopes),
                    "state": state,
                    "nonce": nonce,
                    "code_challenge": create_s256_code_challenge(code_verifier),
                    "code_challenge_method": "S256",
                }
            )
            endpoint = str(metadata["authorization_endpoint"])
            return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

        return await self._bounded(build)

    async def redeem(
        self, provider: str, *, code: str, callback_uri: str, code_verifier: str, nonce: str
    ) -> ProvidedIdentity:
        config = self._config(provider)

        async def run() -> ProvidedIdentity:
            metadata = await self._metadata(config)
            answer = await self._token_request(config, metadata, code, callback_uri, code_verifier)
            id_token = answer.get("id_token")
            if not isinstance(id_token, str):
                raise ProviderUnavailable("the token response has no ID token")
            access_token = answer.get("access_token")
            claims = await self._verified_claims(
                config,
                metadata,
                id_token,
                nonce=nonce,
                access_token=access_token if isinstance(access_token, str) else None,
            )
            return _identity_of(claims)

        return await self._bounded(run)

    # --- the provider's documents ---

    def _config(self, provider: str) -> ProviderConfig:
        config = self._configs.get(provider)
        if config is None:
            raise UnknownProvider()
        return config

    def _lock(self, config: ProviderConfig) -> asyncio.Lock:
        cached = self._cache[config.id]
        if cached.lock is None:
            cached.lock = asyncio.Lock()
        return cached.lock

    async def _metadata(self, config: ProviderConfig) -> dict[str, Any]:
        cached = self._cache[config.id]
        if cached.metadata is not None and time.monotonic() < cached.metadata_until:
            return cached.metadata
        async with self._lock(config):  # one fetch for concurrent sign-ins
            if cached.metadata is not None and time.monotonic() < cached.metadata_until:
                return cached.metadata
            url = config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            document = await self._get_json(url)
            # OpenID Connect Discovery 1.0, 4.3: the issuer it names must be the one we asked.
            if document.get("issuer") != config.issuer:
                raise ProviderUnavailable("its discovery document names another issuer")
            for required in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(document.get(required), str):
                    raise ProviderUnavailable(f"its discovery document lacks {required}")
            cached.metadata = document
            cached.metadata_until = time.monotonic() + self._metadata_ttl_s
            return document

    async def _keys(
        self, config: ProviderConfig, metadata: dict[str, Any], *, stale: KeySet | None = None
    ) -> KeySet:
        """The provider's keys; `stale`: the set that lacked a kid, to be replaced (once, by
        whichever caller gets the lock first)."""
        cached = self._cache[config.id]
        if cached.keys is not None and cached.keys is not stale:
            return cached.keys
        async with self._lock(config):
            if cached.keys is not None and cached.keys is not stale:
                return cached.keys
            document = await self._get_json(str(metadata["jwks_uri"]))
            try:
                keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError) as exc:
                raise ProviderUnavailable("its JWKS cannot be read") from exc
            logger.info("oidc: {} keys fetched ({} keys)", config.id, len(keys.keys))
            cached.keys = keys
            return keys

    # --- the token request and the ID token ---

    async def _token_request(
        self,
        config: ProviderConfig,
        metadata: dict[str, Any],
        code: str,
        callback_uri: str,
        code_verifier: str,
    ) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback_uri,
            "code_verifier": code_verifier,
        }
        headers = {"Accept": "application/json"}
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" in methods:
            # RFC 6749 2.3.1: id and secret form-encoded before Basic's base64.
            pair = f"{quote(config.client_id, safe='')}:{quote(config.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form |= {"client_id": config.client_id, "client_secret": config.client_secret}
        response = await self._send(
            self._client.post(str(metadata["token_endpoint"]), data=form, headers=headers)
        )
        body = _json_of(response)
        if response.status_code == 400 and body.get("error") == "invalid_grant":
            raise AuthorizationCodeRejected()
        if response.status_code != 200:
            error = str(body.get("error", ""))[:60]
            raise ProviderUnavailable(
                f"its token endpoint answered {response.status_code} {error}".strip()
            )
        return body

    async def _verified_claims(
        self,
        config: ProviderConfig,
        metadata: dict[str, Any],
        id_token: str,
        *,
        nonce: str,
        access_token: str | None,
    ) -> dict[str, Any]:
        announced = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in SIGNING_ALGORITHMS if a in announced]
        if not algorithms:
            raise ProviderUnavailable("it signs ID tokens with no algorithm we accept")
        kid = _kid_of(id_token)
        keys = await self._keys(config, metadata)
        if kid is not None and not any(key.kid == kid for key in keys):
            keys = await self._keys(config, metadata, stale=keys)  # rotated: fetch once more
            if not any(key.kid == kid for key in keys):
                raise IdTokenRejected("it is signed with an unknown key")
        try:
            token = jwt.decode(id_token, keys, algorithms=algorithms)
        except BadSignatureError as exc:
            raise IdTokenRejected("bad signature") from exc
        except (JoseError, ValueError) as exc:
            raise IdTokenRejected(f"it cannot be read ({type(exc).__name__})") from exc
        claims = CodeIDToken(
            token.claims,
            token.header,
            options={
                "iss": {"essential": True, "value": config.issuer},
                "aud": {"essential": True, "value": config.client_id},
                "sub": {"essential": True},
            },
            params={"nonce": nonce, "client_id": config.client_id, "access_token": access_token},
        )
        try:
            claims.validate(now=int(self._clock.now().timestamp()), leeway=self._leeway_s)
        except JoseError as exc:
            raise IdTokenRejected(exc.description or exc.error) from exc
        return dict(claims)

    # --- HTTP ---

    async def _bounded(self, work: Callable[[], Awaitable[T]]) -> T:
        try:
            async with asyncio.timeout(self._timeout_s):
                return await work()
        except TimeoutError as exc:
            raise ProviderTimeout() from exc

    async def _send(self, request: Awaitable[httpx2.Response]) -> httpx2.Response:
        try:
            return await request
        except httpx2.TimeoutException as exc:
            raise ProviderTimeout() from exc
        except httpx2.HTTPError as exc:
            logger.warning("oidc: provider request failed: {}: {}", type(exc).__name__, exc)
            raise ProviderUnavailable("it cannot be reached") from exc

    async def _get_json(self, url: str) -> dict[str, Any]:
        response = await self._send(self._client.get(url, headers={"Accept": "application/json"}))
        if response.status_code != 200:
            raise ProviderUnavailable(f"{url} answered {response.status_code}")
        return _json_of(response)


def _json_of(response: httpx2.Response) -> dict[str, Any]:
    if len(response.content) > MAX_DOCUMENT_BYTES:
        raise ProviderUnavailable("it answered a document too large")
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderUnavailable(f"it answered {response.status_code} without JSON") from exc
    if not isinstance(body, dict):
        raise ProviderUnavailable("it answered JSON that is not an object")
    return body


def _kid_of(id_token: str) -> str | None:
    try:
        segment = id_token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise IdTokenRejected("it is not a JWT") from exc
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


def _text(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value.strip() else None


def _identity_of(claims: dict[str, Any]) -> ProvidedIdentity:
    verified = claims.get("email_verified")
    return ProvidedIdentity(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=_text(claims, "email"),
        # Some providers send the string "true"; anything else is not verified.
        email_verified=verified is True or verified == "true",
        name=_text(claims, "name"),
        preferred_username=_text(claims, "preferred_username"),
        picture=_text(claims, "picture"),
    )
