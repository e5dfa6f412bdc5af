"""HttpOpenIdProviders (adapters/oidc) against scripted HTTP answers (httpx2.MockTransport):
discovery, keys, the token request and every ID token check. The same adapter against a real
provider: tests/integration/test_oidc_provider.py."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from adapters.oidc.none import NoOpenIdProviders
from adapters.oidc.providers import HttpOpenIdProviders, ProviderConfig
from adapters.system import SystemClock
from core.identities.errors import (
    AuthorizationCodeRejected,
    IdTokenRejected,
    ProviderTimeout,
    ProviderUnavailable,
    UnknownProvider,
)

ISSUER = "https://id.example.test"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256"})
CONFIG = ProviderConfig("acme", ISSUER, "client-1", "s3cr:t", ("openid", "email"))
NONCE = "n-123"


def discovery(**extra: Any) -> dict[str, Any]:
    return {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/jwks",
        "id_token_signing_alg_values_supported": ["RS256"],
        **extra,
    }


def id_token(
    key: Any = KEY, alg: str = "RS256", kid: str = "k1", drop: str = "", **claims: Any
) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "sub": "sub-1",
        "aud": "client-1",
        "exp": now + 300,
        "iat": now,
        "nonce": NONCE,
        "email": "a@example.test",
        "email_verified": "true",
        **claims,
    }
    payload.pop(drop, None)
    return jwt.encode({"alg": alg, "kid": kid}, payload, key)


class Provider:
    """Scripted answers by path; every request kept."""

    def __init__(self) -> None:
        self.discovery = discovery()
        self.keys: list[RSAKey] = [KEY]
        self.token: Callable[[], httpx2.Response] = lambda: httpx2.Response(
            200, json={"access_token": "at", "id_token": id_token()}
        )
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx2.Response(200, json=self.discovery)
        if path == "/jwks":
            return httpx2.Response(200, json={"keys": [k.as_dict() for k in self.keys]})
        if path == "/token":
            return self.token()
        return httpx2.Response(404)

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.url.path == path)


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
async def adapter(provider: Provider) -> Any:
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(provider)) as client:
        yield HttpOpenIdProviders([CONFIG], client, SystemClock(), timeout_s=2)


async def redeem(adapter: HttpOpenIdProviders) -> Any:
    return await adapter.redeem(
        "acme", code="c", callback_uri="https://api/cb", code_verifier="v" * 43, nonce=NONCE
    )


async def test_the_authorization_url_carries_pkce_s256_state_and_nonce(
    adapter: HttpOpenIdProviders, provider: Provider
) -> None:
    url = await adapter.authorization_url(
        "acme", callback_uri="https://api/cb", state="st", nonce="no", code_verifier="v" * 43
    )

    assert url.startswith(f"{ISSUER}/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    challenge = base64.urlsafe_b64encode(hashlib.sha256(b"v" * 43).digest()).rstrip(b"=")
    assert query == {
        "response_type": "code",
        "client_id": "client-1",
        "redirect_uri": "https://api/cb",
        "scope": "openid email",
        "state": "st",
        "nonce": "no",
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
    }
    await adapter.authorization_url(
        "acme", callback_uri="https://api/cb", state="s2", nonce="n2", code_verifier="w" * 43
    )
    assert provider.count("/.well-known/openid-configuration") == 1  # cached


async def test_a_good_id_token_gives_the_identity(
    adapter: HttpOpenIdProviders, provider: Provider
) -> None:
    identity = await redeem(adapter)

    assert (identity.issuer, identity.subject) == (ISSUER, "sub-1")
    assert identity.email == "a@example.test"
    assert identity.email_verified is True  # the string "true" some providers send
    [token_request] = [r for r in provider.requests if r.url.path == "/token"]
    form = parse_qs(token_request.content.decode())
    assert form["grant_type"] == ["authorization_code"]
    assert form["code_verifier"] == ["v" * 43]
    assert form["redirect_uri"] == ["https://api/cb"]
    assert "client_secret" not in form
    basic = base64.b64decode(token_request.headers["authorization"].removeprefix("Basic "))
    assert basic == b"client-1:s3cr%3At"  # RFC 6749 2.3.1: form-encoded, then base64


async def test_the_secret_goes_in_the_form_when_basic_is_not_offered(
    adapter: HttpOpenIdProviders, provider: Provider
) -> None:
    provider.discovery = discovery(token_endpoint_auth_methods_supported=["client_secret_post"])

    await redeem(adapter)

    [token_request] = [r for r in provider.requests if r.url.path == "/token"]
    form = parse_qs(token_request.content.decode())
    assert form["client_id"] == ["client-1"]
    assert form["client_secret"] == ["s3cr:t"]
    assert "authorization" not in token_request.headers


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"nonce": "other"}, "nonce"),
        ({"iss": "https://evil.test"}, "iss"),
        ({"aud": "client-2"}, "aud"),
        ({"aud": ["client-1", "client-2"]}, "azp"),  # several audiences: azp is required
        ({"azp": "client-2"}, "azp"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"drop": "sub"}, "sub"),
    ],
)
async def test_a_claim_that_fails_its_check_is_rejected(
    adapter: HttpOpenIdProviders, provider: Provider, claims: dict[str, Any], reason: str
) -> None:
    token = id_token(**claims)
    provider.token = lambda: httpx2.Response(200, json={"id_token": token})

    with pytest.raises(IdTokenRejected) as caught:
        await redeem(adapter)
    assert reason in caught.value.message.lower()


async def test_an_hmac_or_unsigned_id_token_is_rejected(
    adapter: HttpOpenIdProviders, provider: Provider
) -> None:
    # HS256 keyed with something the attacker knows: not an algorithm the provider announced.
    forged = id_token(OctKey.import_key(b"k" * 32), alg="HS256")
    provider.token = lambda: httpx2.Response(200, json={"id_token": forged})

    with pytest.raises(IdTokenRejected):
        await redeem(adapter)


async def test_a_token_signed_by_another_key_of_the_same_kid_is_rejected(
    adapter: HttpOpenIdProviders, provider: Provider
) -> None:
    impostor = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    provider.token = lambda: httpx2.Response(200, json={"id_token": id_token(impostor)})

    with pytest.raises(IdTokenRejected, match="bad signature"):
        await redeem(adapter)


async def test_an_unknown_kid_fetches_the_keys_once_more(
    adapter: HttpOpenIdProviders, provider: Provider
) -> None:
    await redeem(adapter)
    rotated = RSAKey.generate_key(2048, parameters={"kid": "k2", "alg": "RS256"})
    provider.keys = [rotated]
    provider.token = lambda: httpx2.Response(200, json={"id_token": id_token(rotated, kid="k2")})

    await redeem(adapter)
    await redeem(adapter)

    assert provider.count("/jwks") == 2


async def test_a_kid_still_unknown_after_fetching_again_is_rejected(
    adapter: HttpOpenIdProviders, provider: Provider
) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "zz"})
    provider.token = lambda: httpx2.Response(200, json={"id_token": id_token(stranger, kid="zz")})

    with pytest.raises(IdTokenRejected, match="unknown key"):
        await redeem(adapter)
    assert provider.count("/jwks") == 2


@pytest.mark.parametrize(
    "document",
    [
        discovery(issuer="https://other.test"),
        {k: v for k, v in discovery().items() if k != "jwks_uri"},
        discovery(id_token_signing_alg_values_supported=["HS256"]),
    ],
    ids=["other-issuer", "no-jwks-uri", "only-hmac"],
)
async def test_a_discovery_document_we_cannot_use_is_a_provider_failure(
    adapter: HttpOpenIdProviders, provider: Provider, document: dict[str, Any]
) -> None:
    provider.discovery = document

    with pytest.raises(ProviderUnavailable):
        await redeem(adapter)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx2.Response(400, json={"error": "invalid_grant"}), AuthorizationCodeRejected),
        (httpx2.Response(401, json={"error": "invalid_client"}), ProviderUnavailable),
        (httpx2.Response(500, text="oops"), ProviderUnavailable),
        (httpx2.Response(200, json={"access_token": "at"}), ProviderUnavailable),
        (httpx2.Response(200, json=["not", "an", "object"]), ProviderUnavailable),
        (httpx2.Response(200, json={"id_token": "not-a-jwt"}), IdTokenRejected),
    ],
    ids=["invalid-grant", "invalid-client", "server-error", "no-id-token", "array", "garbage"],
)
async def test_token_endpoint_answers(
    adapter: HttpOpenIdProviders, provider: Provider, answer: httpx2.Response, error: type
) -> None:
    provider.token = lambda: answer

    with pytest.raises(error):
        await redeem(adapter)


async def test_a_provider_that_does_not_answer_in_time_is_a_timeout() -> None:
    async def slow(request: httpx2.Request) -> httpx2.Response:
        await asyncio.sleep(30)
        return httpx2.Response(200)

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(slow)) as client:
        adapter = HttpOpenIdProviders([CONFIG], client, SystemClock(), timeout_s=0.2)
        with pytest.raises(ProviderTimeout):
            await redeem(adapter)


async def test_a_provider_that_cannot_be_reached_is_a_failure() -> None:
    def refused(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(refused)) as client:
        adapter = HttpOpenIdProviders([CONFIG], client, SystemClock())
        with pytest.raises(ProviderUnavailable):
            await redeem(adapter)


async def test_unknown_providers() -> None:
    none = NoOpenIdProviders()
    assert none.configured() == ()
    with pytest.raises(UnknownProvider):
        await none.authorization_url("x", callback_uri="c", state="s", nonce="n", code_verifier="v")
    with pytest.raises(UnknownProvider):
        await none.redeem("x", code="c", callback_uri="c", code_verifier="v", nonce="n")
    async with httpx2.AsyncClient() as client:
        adapter = HttpOpenIdProviders([CONFIG], client, SystemClock())
        assert [p.id for p in adapter.configured()] == ["acme"]
        with pytest.raises(UnknownProvider):
            await adapter.redeem("x", code="c", callback_uri="c", code_verifier="v", nonce="n")
