"""Asymmetric signing: JWT_PRIVATE_KEY signs with Ed25519 and /.well-known/jwks.json publishes
the public key, which verifies the tokens the API hands out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OKPKey
from pydantic import SecretStr

from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.lifespan import Infrastructure
from entrypoints.settings import Settings
from entrypoints.storage.memory import MemoryStorage
from tests.apps import TEST_SECRET
from tests.fakes.clock import TickingClock
from tests.fakes.passwords import FakePasswordHasher
from tests.security.conftest import register


@pytest.fixture
async def ed_client() -> AsyncIterator[httpx2.AsyncClient]:
    pem = OKPKey.generate_key("Ed25519").as_pem(private=True).decode()
    settings = Settings(
        environment="test",
        secret_key=TEST_SECRET,
        database_url="memory://",
        jwt_private_key=SecretStr(pem),
    )
    infra = Infrastructure(hasher=FakePasswordHasher(), storage=MemoryStorage())
    app = create_app(settings, container=build_container(settings, infra, clock=TickingClock()))
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_the_published_key_verifies_issued_tokens(ed_client: httpx2.AsyncClient) -> None:
    jake = await register(ed_client, "jake")
    jwks = (await ed_client.get("/.well-known/jwks.json")).json()
    assert [k["kty"] for k in jwks["keys"]] == ["OKP"]
    assert all("d" not in k for k in jwks["keys"])  # public halves only
    keys = KeySet.import_key_set(jwks)
    token = jwt.decode(jake.token, keys, algorithms=["Ed25519"])
    assert token.header["alg"] == "Ed25519"
    assert token.header["kid"] == jwks["keys"][0]["kid"]
    assert (await ed_client.get("/api/user", headers=jake.auth)).status_code == 200


async def test_hmac_deployments_publish_no_keys(client: httpx2.AsyncClient) -> None:
    assert (await client.get("/.well-known/jwks.json")).json() == {"keys": []}
