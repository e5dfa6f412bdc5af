"""OpenID Connect sign-in against a real provider (oidc-provider on Node, tests/oidc_live.py),
driven like a browser: an HTTP client following the redirects between the app and the
provider, logging in and consenting on the provider's own pages.

One provider process for the whole session; each test makes its own accounts (new subjects)
and runs the app on SQLite and on Postgres (state and codes in that database; the API tests
cover memory://).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
import pytest
from fastapi import FastAPI

from adapters.system import SystemClock
from entrypoints.container import build_container
from entrypoints.lifespan import open_oidc_http
from entrypoints.settings import Settings
from tests.apps import TEST_SECRET, app_serving
from tests.infra import Storage
from tests.oidc_live import CLIENT_ID, CLIENT_SECRET, LiveProvider, Rewrite, start_provider

pytestmark = pytest.mark.integration

APP = "http://conduit.test"
FRONT = "http://127.0.0.1:9/signed-in"  # the front end: never reached, only redirected to
CALLBACK = f"{APP}/api/auth/oidc/local/callback"
PROMPT = re.compile(r'name="prompt" value="(\w+)"')


@pytest.fixture(scope="session")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvider]:
    live = start_provider(Path(tmp_path_factory.mktemp("oidc")), [CALLBACK])
    yield live
    live.stop()


@pytest.fixture(autouse=True)
def plain_tokens(provider: LiveProvider) -> Iterator[None]:
    provider.proxy.rewrite = None
    yield
    provider.proxy.rewrite = None


def oidc_settings(provider: LiveProvider) -> Settings:
    return Settings(
        environment="test",
        secret_key=TEST_SECRET,
        database_url="memory://",
        rate_limit_enabled=False,
        oidc_providers=[
            {
                "id": "local",
                "issuer": provider.issuer,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "trusted_email_domains": ["trusted.test"],
            }
        ],
        oidc_redirect_allowlist=FRONT,
        oidc_timeout_s=10,
    )


@pytest.fixture
async def app(provider: LiveProvider, sql_storage: Storage) -> AsyncIterator[FastAPI]:
    settings = oidc_settings(provider)
    http = open_oidc_http(settings)
    infra = dataclasses.replace(sql_storage.infra, oidc_http=http)
    try:
        yield app_serving(settings, build_container(settings, infra, clock=SystemClock()))
    finally:
        assert http is not None
        await http.aclose()


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx2.AsyncClient]:
    """A browser: the app in process at APP, the provider over the network; cookies kept."""
    async with httpx2.AsyncClient(
        mounts={APP: httpx2.ASGITransport(app=app)}, timeout=15
    ) as client:
        yield client


def account(provider: LiveProvider, **claims: Any) -> str:
    sub = f"sub-{uuid.uuid4().hex[:12]}"
    provider.add_account(sub, **claims)
    return sub


async def to_callback(browser: httpx2.AsyncClient, start: str, sub: str) -> str:
    """Follow the redirects from `start` through the provider's login and consent pages, up
    to the URL of our callback (not requested)."""
    response = await browser.get(start)
    for _ in range(20):
        if response.is_redirect:
            location = urljoin(str(response.url), response.headers["location"])
            if location.startswith(CALLBACK):
                return location
            response = await browser.get(location)
            continue
        assert response.status_code == 200, response.text
        prompt = PROMPT.search(response.text)
        assert prompt is not None, response.text
        form = {"prompt": prompt.group(1), "login": sub, "password": "any"}
        response = await browser.post(str(response.url), data=form)
    raise AssertionError("too many redirects")


async def sign_in(browser: httpx2.AsyncClient, sub: str) -> httpx2.Response:
    """The whole flow; the callback's answer (a redirect to the front end, or an error)."""
    login = f"{APP}/api/auth/oidc/local/login?redirect_uri={FRONT}"
    return await browser.get(await to_callback(browser, login, sub))


def code_of(response: httpx2.Response) -> str:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(FRONT + "?"), location
    query = parse_qs(urlsplit(location).query)
    assert set(query) == {"code"}  # no token in the URL
    return query["code"][0]


async def exchange(browser: httpx2.AsyncClient, code: str) -> httpx2.Response:
    return await browser.post(f"{APP}/api/auth/oidc/exchange", json={"code": code})


async def identities(browser: httpx2.AsyncClient, token: str) -> list[dict[str, Any]]:
    response = await browser.get(
        f"{APP}/api/user/identities", headers={"Authorization": f"Token {token}"}
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["identities"]
    return found


async def test_a_new_subject_gets_an_account_and_tokens(
    browser: httpx2.AsyncClient, provider: LiveProvider
) -> None:
    sub = account(
        provider,
        email="new.person@example.test",
        email_verified=True,
        preferred_username="new person",
        picture="https://img.example.test/p.png",
    )

    answer = await exchange(browser, code_of(await sign_in(browser, sub)))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["user"]["username"] == "new_person"
    assert body["user"]["email"] == "new.person@example.test"
    assert body["user"]["image"] == "https://img.example.test/p.png"
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert body["refresh_token"]
    me = await browser.get(
        f"{APP}/api/user", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200, me.text
    assert [i["subject"] for i in await identities(browser, body["user"]["token"])] == [sub]
    # No password: password login answers the generic error.
    login = await browser.post(
        f"{APP}/api/users/login",
        json={"user": {"email": "new.person@example.test", "password": ""}},
    )
    assert login.status_code in (401, 422)


async def test_a_linked_subject_signs_in_to_the_same_account(
    browser: httpx2.AsyncClient, provider: LiveProvider
) -> None:
    sub = account(provider, email="twice@example.test", email_verified=True, name="Twice")
    first = (await exchange(browser, code_of(await sign_in(browser, sub)))).json()

    second = (await exchange(browser, code_of(await sign_in(browser, sub)))).json()

    assert second["user"]["username"] == first["user"]["username"] == "Twice"
    assert len(await identities(browser, second["user"]["token"])) == 1


async def register(browser: httpx2.AsyncClient, username: str, email: str) -> str:
    response = await browser.post(
        f"{APP}/api/users",
        json={"user": {"username": username, "email": email, "password": "password123"}},
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["user"]["token"]
    return token


async def test_a_trusted_verified_email_links_the_existing_account(
    browser: httpx2.AsyncClient, provider: LiveProvider
) -> None:
    token = await register(browser, "carol", "carol@trusted.test")
    sub = account(provider, email="carol@trusted.test", email_verified=True)

    answer = (await exchange(browser, code_of(await sign_in(browser, sub)))).json()

    assert answer["user"]["username"] == "carol"
    assert [i["subject"] for i in await identities(browser, token)] == [sub]


async def test_an_unverified_email_does_not_link_the_existing_account(
    browser: httpx2.AsyncClient, provider: LiveProvider
) -> None:
    token = await register(browser, "dave", "dave@trusted.test")
    sub = account(provider, email="dave@trusted.test", email_verified=False, name="mallory")

    refused = await sign_in(browser, sub)

    assert refused.status_code == 403, refused.text
    assert refused.json()["errors"]["email"][0].startswith("belongs to an existing account")
    assert await identities(browser, token) == []
    taken = await browser.get(f"{APP}/api/profiles/mallory")
    assert taken.status_code == 404  # no account made either


async def test_a_replayed_state_is_refused(
    browser: httpx2.AsyncClient, provider: LiveProvider
) -> None:
    sub = account(provider, email="replay@example.test", email_verified=True)
    login = f"{APP}/api/auth/oidc/local/login?redirect_uri={FRONT}"
    callback = await to_callback(browser, login, sub)
    assert code_of(await browser.get(callback))

    replayed = await browser.get(callback)

    assert replayed.status_code == 400, replayed.text
    assert replayed.json()["errors"] == {"state": ["is missing, expired or already used"]}


async def test_a_sign_in_code_is_good_once(
    browser: httpx2.AsyncClient, provider: LiveProvider
) -> None:
    sub = account(provider, email="once@example.test", email_verified=True)
    code = code_of(await sign_in(browser, sub))
    assert (await exchange(browser, code)).status_code == 200

    again = await exchange(browser, code)

    assert again.status_code == 400
    assert again.json()["errors"] == {"code": ["is invalid, expired or already used"]}


async def test_an_unknown_kid_fetches_the_keys_again_after_a_rotation(
    browser: httpx2.AsyncClient, provider: LiveProvider
) -> None:
    before = account(provider, email="keys1@example.test", email_verified=True)
    assert (await exchange(browser, code_of(await sign_in(browser, before)))).status_code == 200
    fetched = provider.proxy.paths.count("/jwks")

    provider.rotate_keys()
    after = account(provider, email="keys2@example.test", email_verified=True)
    answer = await exchange(browser, code_of(await sign_in(browser, after)))

    assert answer.status_code == 200, answer.text
    assert provider.proxy.paths.count("/jwks") == fetched + 1  # once, for the new kid


@pytest.mark.parametrize(
    ("rewrite", "reason"),
    [
        (Rewrite(claims={"nonce": "not-the-one-we-sent"}), "nonce"),
        (Rewrite(claims={"exp": 1_000_000_000, "iat": 999_999_000}), "expired"),
        (Rewrite(tamper_signature=True), "bad signature"),
        (Rewrite(claims={"aud": "someone-else"}), "aud"),
        (Rewrite(claims={"azp": "someone-else"}), "azp"),
    ],
    ids=["wrong-nonce", "expired", "tampered-signature", "wrong-aud", "wrong-azp"],
)
async def test_a_bad_id_token_signs_nobody_in(
    browser: httpx2.AsyncClient, provider: LiveProvider, rewrite: Rewrite, reason: str
) -> None:
    sub = account(provider, email=f"{uuid.uuid4().hex[:8]}@example.test", email_verified=True)
    provider.proxy.rewrite = rewrite

    refused = await sign_in(browser, sub)

    assert refused.status_code == 401, refused.text
    message = refused.json()["errors"]["body"][0]
    assert message.startswith("the identity provider's ID token was rejected")
    assert reason in message.lower()
    provider.proxy.rewrite = None
    # Nothing was made: the same subject signing in properly now gets a new account.
    fresh = (await exchange(browser, code_of(await sign_in(browser, sub)))).json()
    assert len(await identities(browser, fresh["user"]["token"])) == 1


async def test_a_signed_in_user_links_a_provider_and_signs_in_with_it(
    browser: httpx2.AsyncClient, provider: LiveProvider
) -> None:
    token = await register(browser, "erin", "erin@elsewhere.test")
    sub = account(provider, email="erin@elsewhere.test", email_verified=False)
    auth = {"Authorization": f"Token {token}"}
    started = await browser.post(
        f"{APP}/api/user/identities/authorization",
        json={"provider": "local", "redirect_uri": FRONT},
        headers=auth,
    )
    assert started.status_code == 200, started.text
    callback = await to_callback(browser, started.json()["authorization_url"], sub)
    code = code_of(await browser.get(callback))

    linked = await browser.post(f"{APP}/api/user/identities", json={"code": code}, headers=auth)

    assert linked.status_code == 201, linked.text
    assert linked.json()["identity"]["subject"] == sub
    answer = (await exchange(browser, code_of(await sign_in(browser, sub)))).json()
    assert answer["user"]["username"] == "erin"
    # It has a password too: the identity may go.
    identity_id = linked.json()["identity"]["id"]
    gone = await browser.delete(f"{APP}/api/user/identities/{identity_id}", headers=auth)
    assert gone.status_code == 204
