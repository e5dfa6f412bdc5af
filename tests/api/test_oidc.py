"""OpenID Connect sign-in over HTTP with scripted providers (tests/fakes/oidc.py): the login
redirect, the callback's checks, the code exchange, linking and unlinking identities.
The same flows against a real provider: tests/integration/test_oidc_provider.py."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx2
import punq
import pytest

from core.identities.errors import ProviderTimeout, ProviderUnavailable
from entrypoints.container import build_container
from entrypoints.settings import Settings
from tests.api.helpers import PASSWORD, Account, assert_error, register
from tests.apps import TEST_SECRET
from tests.fakes.clock import TickingClock
from tests.fakes.oidc import ACME, FakeOpenIdProviders
from tests.infra import Storage

FRONT = "https://app.example.test/signed-in"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        environment="test",
        secret_key=TEST_SECRET,
        database_url="memory://",
        rate_limit_enabled=False,
        oidc_redirect_allowlist=f"{FRONT},https://app.example.test/linked",
    )


@pytest.fixture
def idp() -> FakeOpenIdProviders:
    return FakeOpenIdProviders()


@pytest.fixture
def container(
    settings: Settings, storage: Storage, clock: TickingClock, idp: FakeOpenIdProviders
) -> punq.Container:
    return build_container(settings, storage.infra, clock=clock, oidc_providers=idp)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def start(client: httpx2.AsyncClient, provider: str = "acme") -> dict[str, str]:
    """GET login; the provider's authorization request it redirects to."""
    response = await client.get(f"/api/auth/oidc/{provider}/login", params={"redirect_uri": FRONT})
    assert response.status_code == 302, response.text
    assert response.headers["cache-control"] == "no-store"
    return query_of(response.headers["location"])


async def callback(
    client: httpx2.AsyncClient, provider: str = "acme", **params: str
) -> httpx2.Response:
    return await client.get(f"/api/auth/oidc/{provider}/callback", params=params)


async def sign_in_code(client: httpx2.AsyncClient, code: str) -> str:
    """The whole redirect dance for the identity under `code`; the one-time code."""
    request = await start(client)
    response = await callback(client, state=request["state"], code=code)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(FRONT + "?")
    return query_of(location)["code"]


async def exchange(client: httpx2.AsyncClient, code: str) -> httpx2.Response:
    return await client.post("/api/auth/oidc/exchange", json={"code": code})


async def signed_in(client: httpx2.AsyncClient, code: str) -> dict[str, object]:
    response = await exchange(client, await sign_in_code(client, code))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_the_providers_are_listed_for_buttons(client: httpx2.AsyncClient) -> None:
    response = await client.get("/api/auth/providers")

    assert response.status_code == 200
    assert response.json()["providers"][0] == {
        "id": "acme",
        "issuer": "https://id.acme.test",
        "loginUrl": "/api/auth/oidc/acme/login",
    }


async def test_login_redirects_with_state_nonce_and_our_callback(
    client: httpx2.AsyncClient,
) -> None:
    request = await start(client)

    assert request["redirect_uri"] == "http://test/api/auth/oidc/acme/callback"
    assert len(request["state"]) >= 43
    assert len(request["nonce"]) >= 43
    assert request["state"] != request["nonce"]


async def test_an_unknown_provider_is_404(client: httpx2.AsyncClient) -> None:
    response = await client.get("/api/auth/oidc/nope/login", params={"redirect_uri": FRONT})
    assert_error(response, 404, "provider")
    assert_error(await callback(client, "nope", state="s", code="c"), 404, "provider")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/signed-in",
        FRONT + "/more",
        FRONT + "?next=x",
        "https://app.example.test",
    ],
)
async def test_a_redirect_uri_off_the_allowlist_is_400(
    client: httpx2.AsyncClient, redirect_uri: str
) -> None:
    response = await client.get("/api/auth/oidc/acme/login", params={"redirect_uri": redirect_uri})
    assert_error(response, 400, "redirect_uri")


async def test_a_missing_redirect_uri_is_422(client: httpx2.AsyncClient) -> None:
    assert_error(await client.get("/api/auth/oidc/acme/login"), 422, "redirect_uri")


@pytest.mark.parametrize("params", [{"code": "c"}, {"state": "made-up", "code": "c"}])
async def test_a_missing_or_unknown_state_is_400(
    client: httpx2.AsyncClient, params: dict[str, str]
) -> None:
    assert_error(await callback(client, **params), 400, "state")


async def test_a_state_is_good_once(client: httpx2.AsyncClient, idp: FakeOpenIdProviders) -> None:
    idp.person("c1", "s1", email="one@example.test", email_verified=True)
    request = await start(client)
    assert (await callback(client, state=request["state"], code="c1")).status_code == 302

    replayed = await callback(client, state=request["state"], code="c1")

    assert_error(replayed, 400, "state")
    assert len(idp.redeemed) == 1


async def test_a_state_expires(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders, clock: TickingClock
) -> None:
    idp.person("c1", "s1", email="one@example.test", email_verified=True)
    request = await start(client)
    clock.advance(10 * 60)

    assert_error(await callback(client, state=request["state"], code="c1"), 400, "state")
    assert idp.redeemed == []


async def test_a_state_of_another_provider_is_refused(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders
) -> None:
    request = await start(client, "acme")

    assert_error(await callback(client, "other", state=request["state"], code="c"), 400, "state")


async def test_the_code_is_redeemed_with_the_states_nonce_and_callback(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders
) -> None:
    idp.person("c1", "s1", email="one@example.test", email_verified=True)
    request = await start(client)
    await callback(client, state=request["state"], code="c1")

    [redeemed] = idp.redeemed
    assert redeemed.nonce == request["nonce"]
    assert redeemed.callback_uri == request["redirect_uri"]
    assert len(redeemed.code_verifier) >= 43


async def test_the_user_declining_at_the_provider_is_400_and_uses_up_the_state(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders
) -> None:
    request = await start(client)

    refused = await callback(client, state=request["state"], error="access_denied")

    assert "access_denied" in assert_error(refused, 400, "provider")["provider"][0]
    assert_error(await callback(client, state=request["state"], code="c"), 400, "state")


async def test_a_new_subject_gets_an_account_without_a_password(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders
) -> None:
    idp.person(
        "c1", "s1", email="Ann@Example.test", email_verified=False, name="Ann Lee",
        picture="https://img.example.test/ann.png",
    )  # fmt: skip

    body = await signed_in(client, "c1")

    assert body["user"] == {
        "email": "ann@example.test",
        "username": "Ann_Lee",
        "bio": "",
        "image": "https://img.example.test/ann.png",
        "token": body["user"]["token"],  # type: ignore[index]
    }
    assert set(body) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    refreshed = await client.post(
        "/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
    )
    assert refreshed.status_code == 200, refreshed.text
    # No password: any password gets the answer a wrong one gets.
    for password in ("", "x" * 8, PASSWORD):
        login = await client.post(
            "/api/users/login", json={"user": {"email": "ann@example.test", "password": password}}
        )
        assert login.status_code in (401, 422)
        assert login.json()["errors"] != {}


async def test_a_password_set_later_logs_in(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders
) -> None:
    idp.person("c1", "s1", email="ann@example.test", name="ann")
    body = await signed_in(client, "c1")
    auth = {"Authorization": f"Token {body['user']['token']}"}  # type: ignore[index]
    wrong = await client.post(
        "/api/users/login", json={"user": {"email": "ann@example.test", "password": PASSWORD}}
    )
    assert_error(wrong, 401, "email or password")

    changed = await client.put("/api/user", json={"user": {"password": PASSWORD}}, headers=auth)

    assert changed.status_code == 200, changed.text
    login = await client.post(
        "/api/users/login", json={"user": {"email": "ann@example.test", "password": PASSWORD}}
    )
    assert login.status_code == 200, login.text


async def test_a_taken_username_falls_back_to_the_next_source(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders, jake: Account
) -> None:
    idp.person("c1", "s1", email="other.jake@example.test", preferred_username="JAKE")

    assert (await signed_in(client, "c1"))["user"]["username"] == "other.jake"  # type: ignore[index]


async def test_a_derived_username_is_made_unique(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders, jake: Account
) -> None:
    await register(client, "user")
    idp.person("c1", "s1", email="jake@elsewhere.test", preferred_username="Jake")

    username = (await signed_in(client, "c1"))["user"]["username"]  # type: ignore[index]

    assert username.startswith("Jake-")  # every source taken ("user" too): a suffix
    assert len(username) == len("Jake-1234")
    profile = await client.get(f"/api/profiles/{username}")
    assert profile.status_code == 200


async def test_a_derived_username_obeys_the_username_rules(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders
) -> None:
    # Latin mixed with Cyrillic is no username; the name is spaces and punctuation.
    idp.person(
        "c1", "s1", email="mix@example.test", preferred_username="p\u0430ypal", name="!!! ???"
    )

    assert (await signed_in(client, "c1"))["user"]["username"] == "mix"  # type: ignore[index]


async def test_a_subject_without_email_is_refused_and_nothing_is_made(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders
) -> None:
    idp.person("c1", "s1", preferred_username="ghost")
    request = await start(client)

    assert_error(await callback(client, state=request["state"], code="c1"), 403, "email")
    assert (await client.get("/api/profiles/ghost")).status_code == 404


@pytest.mark.parametrize(
    ("email", "verified"),
    [("jake@acme.test", False), ("jake@untrusted.test", True)],
    ids=["unverified", "untrusted-domain"],
)
async def test_an_existing_email_is_not_taken_over(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders, email: str, verified: bool
) -> None:
    victim = await register(client, "jake", email=email)
    idp.person("c1", "s1", email=email, email_verified=verified, preferred_username="mallory")
    request = await start(client)

    refused = await callback(client, state=request["state"], code="c1")

    assert_error(refused, 403, "email")
    assert (await client.get("/api/profiles/mallory")).status_code == 404
    listed = await client.get("/api/user/identities", headers=victim.auth)
    assert listed.json() == {"identities": []}


async def test_a_trusted_verified_email_signs_in_to_the_existing_account(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders
) -> None:
    jake = await register(client, "jake", email="jake@acme.test")
    idp.person("c1", "s1", email="JAKE@acme.test", email_verified=True)

    body = await signed_in(client, "c1")

    assert body["user"]["username"] == "jake"  # type: ignore[index]
    listed = (await client.get("/api/user/identities", headers=jake.auth)).json()
    assert [(i["provider"], i["subject"]) for i in listed["identities"]] == [("acme", "s1")]
    assert listed["identities"][0]["email"] == "jake@acme.test"


async def test_a_sign_in_code_is_good_once_and_for_a_minute(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders, clock: TickingClock
) -> None:
    idp.person("c1", "s1", email="one@example.test")
    idp.person("c2", "s2", email="two@example.test")
    code = await sign_in_code(client, "c1")
    assert (await exchange(client, code)).status_code == 200
    assert_error(await exchange(client, code), 400, "code")

    late = await sign_in_code(client, "c2")
    clock.advance(61)

    assert_error(await exchange(client, late), 400, "code")


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 5}, {"code": "x" * 201}])
async def test_a_malformed_exchange_is_422(
    client: httpx2.AsyncClient, body: dict[str, object]
) -> None:
    assert_error(await client.post("/api/auth/oidc/exchange", json=body), 422, "code")


@pytest.mark.parametrize(
    ("failure", "status"),
    [(ProviderUnavailable("it cannot be reached"), 502), (ProviderTimeout(), 504)],
)
async def test_a_provider_failing_at_the_callback_makes_nothing(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders, failure: Exception, status: int
) -> None:
    idp.person("c1", "s1", email="down@example.test", preferred_username="down")
    request = await start(client)
    idp.failure = failure  # type: ignore[assignment]

    assert_error(await callback(client, state=request["state"], code="c1"), status, "provider")
    assert (await client.get("/api/profiles/down")).status_code == 404


async def test_a_provider_down_at_login_keeps_no_state(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders
) -> None:
    idp.failure = ProviderTimeout()
    response = await client.get("/api/auth/oidc/acme/login", params={"redirect_uri": FRONT})
    assert_error(response, 504, "provider")


async def link(
    client: httpx2.AsyncClient, account: Account, code: str, provider: str = "acme"
) -> httpx2.Response:
    """Start a link as `account`, come back from the provider, post the code."""
    started = await client.post(
        "/api/user/identities/authorization",
        json={"provider": provider, "redirect_uri": "https://app.example.test/linked"},
        headers=account.auth,
    )
    assert started.status_code == 200, started.text
    state = query_of(started.json()["authorization_url"])["state"]
    back = await callback(client, provider, state=state, code=code)
    assert back.status_code == 302, back.text
    one_time = query_of(back.headers["location"])["code"]
    return await client.post("/api/user/identities", json={"code": one_time}, headers=account.auth)


async def test_a_signed_in_user_links_an_identity_whatever_its_email(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders, jake: Account
) -> None:
    idp.person("c1", "s1", email="someone.else@example.test", email_verified=False)

    linked = await link(client, jake, "c1")

    assert linked.status_code == 201, linked.text
    assert linked.json()["identity"]["subject"] == "s1"
    body = await signed_in(client, "c1")  # the identity now signs jake in
    assert body["user"]["username"] == "jake"  # type: ignore[index]


async def test_a_link_code_serves_only_the_user_who_started_it(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders, jake: Account, jane: Account
) -> None:
    idp.person("c1", "s1", email="x@example.test")
    started = await client.post(
        "/api/user/identities/authorization",
        json={"provider": "acme", "redirect_uri": "https://app.example.test/linked"},
        headers=jake.auth,
    )
    state = query_of(started.json()["authorization_url"])["state"]
    code = query_of((await callback(client, state=state, code="c1")).headers["location"])["code"]

    stolen = await client.post("/api/user/identities", json={"code": code}, headers=jane.auth)

    assert_error(stolen, 400, "code")
    assert_error(await exchange(client, code), 400, "code")  # not a sign-in either


async def test_a_sign_in_code_does_not_link(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders, jake: Account
) -> None:
    idp.person("c1", "s1", email="x@example.test")
    code = await sign_in_code(client, "c1")

    refused = await client.post("/api/user/identities", json={"code": code}, headers=jake.auth)

    assert_error(refused, 400, "code")


async def test_an_identity_of_another_account_is_not_linked(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders, jake: Account, jane: Account
) -> None:
    idp.person("c1", "s1", email="x@example.test")
    assert (await link(client, jane, "c1")).status_code == 201

    assert_error(await link(client, jake, "c1"), 422, "identity")


async def test_the_last_way_to_sign_in_cannot_be_unlinked(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders
) -> None:
    idp.person("c1", "s1", email="solo@example.test")
    body = await signed_in(client, "c1")
    auth = {"Authorization": f"Token {body['user']['token']}"}  # type: ignore[index]
    [identity] = (await client.get("/api/user/identities", headers=auth)).json()["identities"]

    refused = await client.delete(f"/api/user/identities/{identity['id']}", headers=auth)

    assert_error(refused, 422, "identity")
    await client.put("/api/user", json={"user": {"password": PASSWORD}}, headers=auth)
    gone = await client.delete(f"/api/user/identities/{identity['id']}", headers=auth)
    assert gone.status_code == 204
    assert (await client.get("/api/user/identities", headers=auth)).json() == {"identities": []}


async def test_one_of_two_identities_can_go_without_a_password(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders
) -> None:
    idp.person("c1", "s1", email="two@example.test")
    body = await signed_in(client, "c1")
    token = body["user"]["token"]  # type: ignore[index]
    me = Account("x", "two@example.test", "", token)
    idp.person("c2", "s2", email="other@example.test")
    assert (await link(client, me, "c2")).status_code == 201
    first = (await client.get("/api/user/identities", headers=me.auth)).json()["identities"][0]

    gone = await client.delete(f"/api/user/identities/{first['id']}", headers=me.auth)

    assert gone.status_code == 204
    [left] = (await client.get("/api/user/identities", headers=me.auth)).json()["identities"]
    assert left["subject"] == "s2"


async def test_unlinking_an_identity_one_does_not_have_is_404(
    client: httpx2.AsyncClient, idp: FakeOpenIdProviders, jake: Account, jane: Account
) -> None:
    idp.person("c1", "s1", email="x@example.test")
    theirs = (await link(client, jane, "c1")).json()["identity"]

    refused = await client.delete(f"/api/user/identities/{theirs['id']}", headers=jake.auth)

    assert_error(refused, 404, "identity")


async def test_identities_need_a_login_session(client: httpx2.AsyncClient) -> None:
    assert (await client.get("/api/user/identities")).status_code == 401


def test_the_fake_offers_the_configured_domains() -> None:
    assert ACME.vouches_for("a@acme.test", verified=True)
    assert not ACME.vouches_for("a@acme.test", verified=False)
    assert not ACME.vouches_for("a@evil-acme.test", verified=True)
