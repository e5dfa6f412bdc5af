"""Access tokens presented to the API: every forgery and every stale token is refused (401)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx2
import punq
import pytest

from adapters.security.tokens import JoseTokenIssuer
from core.auth.ports import TokenIssuer
from core.shared.ids import UserId
from tests.apps import TEST_SECRET
from tests.fakes.clock import FakeClock
from tests.security.conftest import assert_error, make_admin, register, set_access


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def parts(token: str) -> tuple[dict[str, object], dict[str, object], str]:
    header, payload, signature = token.split(".")
    return json.loads(unb64(header)), json.loads(unb64(payload)), signature


def sign(header: dict[str, object], payload: dict[str, object], secret: str, digest: str) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    mac = hmac.new(secret.encode(), signing_input.encode(), getattr(hashlib, digest)).digest()
    return f"{signing_input}.{b64(mac)}"


async def me(client: httpx2.AsyncClient, token: str, scheme: str = "Token") -> httpx2.Response:
    return await client.get("/api/user", headers={"Authorization": f"{scheme} {token}"})


async def user_id_of(container: punq.Container, token: str) -> UserId:
    tokens: TokenIssuer = container.resolve(TokenIssuer)
    return tokens.verify(token).user_id


async def test_a_valid_token_authenticates_with_token_and_bearer_schemes(
    client: httpx2.AsyncClient,
) -> None:
    jake = await register(client, "jake")
    assert (await me(client, jake.token)).status_code == 200
    assert (await me(client, jake.token, "Bearer")).status_code == 200


async def test_a_forged_signature_is_refused(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    header, payload, signature = jake.token.split(".")
    tampered = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
    assert_error(await me(client, f"{header}.{payload}.{tampered}"), 401)


async def test_a_payload_changed_after_signing_is_refused(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    other = await register(client, "other")
    header, _, signature = jake.token.split(".")
    _, other_payload, _ = other.token.split(".")
    assert_error(await me(client, f"{header}.{other_payload}.{signature}"), 401)


async def test_a_token_signed_with_another_secret_is_refused(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    jake = await register(client, "jake")
    header, payload, _ = parts(jake.token)
    assert_error(await me(client, sign(header, payload, "another-secret-" * 3, "sha256")), 401)


async def test_alg_none_is_refused(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    header, payload, _ = parts(jake.token)
    header["alg"] = "none"
    unsigned = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}."
    assert_error(await me(client, unsigned), 401)


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
async def test_a_swapped_algorithm_with_the_right_secret_is_refused(
    client: httpx2.AsyncClient, alg: str
) -> None:
    jake = await register(client, "jake")
    header, payload, _ = parts(jake.token)
    header["alg"] = alg
    forged = sign(header, payload, TEST_SECRET, {"HS384": "sha384", "HS512": "sha512"}[alg])
    assert_error(await me(client, forged), 401)


async def test_an_unknown_key_id_is_refused(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    header, payload, _ = parts(jake.token)
    header["kid"] = "hs-000000000000"
    assert_error(await me(client, sign(header, payload, TEST_SECRET, "sha256")), 401)


def issuer_at(moment: datetime, **kwargs: str) -> JoseTokenIssuer:
    return JoseTokenIssuer(TEST_SECRET, timedelta(minutes=15), FakeClock(moment), **kwargs)  # type: ignore[arg-type]


async def test_an_expired_token_is_refused(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    jake = await register(client, "jake")
    user_id = await user_id_of(container, jake.token)
    stale = issuer_at(datetime.now(UTC) - timedelta(hours=2)).issue(user_id)
    assert_error(await me(client, stale), 401)


async def test_a_token_from_the_future_is_refused(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    jake = await register(client, "jake")
    user_id = await user_id_of(container, jake.token)
    early = issuer_at(datetime.now(UTC) + timedelta(hours=1)).issue(user_id)
    assert_error(await me(client, early), 401)


@pytest.mark.parametrize(("claim", "value"), [("audience", "billing"), ("issuer", "someone-else")])
async def test_a_token_for_another_audience_or_issuer_is_refused(
    client: httpx2.AsyncClient, container: punq.Container, claim: str, value: str
) -> None:
    jake = await register(client, "jake")
    user_id = await user_id_of(container, jake.token)
    foreign = issuer_at(datetime.now(UTC), **{claim: value}).issue(user_id)
    assert_error(await me(client, foreign), 401)


@pytest.mark.parametrize(
    "value",
    ["garbage", "a.b.c", "Token", "eyJ" + "A" * 5000, "é.é.é", "Basic dXNlcjpwdw=="],
)
async def test_garbage_and_oversized_credentials_are_refused(
    client: httpx2.AsyncClient, value: str
) -> None:
    raw = f"Token {value}".encode()  # bytes: the odd ones are not ASCII
    response = await client.get("/api/user", headers=[(b"Authorization", raw)])
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Token"


async def test_a_deactivated_users_token_stops_working_at_once(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    admin = await make_admin(client, container, "root")
    jake = await register(client, "jake")
    assert (await me(client, jake.token)).status_code == 200
    assert (await set_access(client, admin, "jake", active=False)).status_code == 200
    assert_error(await me(client, jake.token), 401)
    # and reactivation does not bring it back (tests/security/test_deactivation.py)
    assert (await set_access(client, admin, "jake", active=True)).status_code == 200
    assert_error(await me(client, jake.token), 401)


async def test_a_deactivated_user_cannot_log_in(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    admin = await make_admin(client, container, "root")
    jake = await register(client, "jake")
    await set_access(client, admin, "jake", active=False)
    response = await client.post(
        "/api/users/login",
        json={"user": {"email": jake.email, "password": "correct horse battery"}},
    )
    assert_error(response, 401)


async def test_logout_everywhere_kills_every_earlier_token(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    second = await client.post(
        "/api/users/login",
        json={"user": {"email": jake.email, "password": "correct horse battery"}},
    )
    other_device = second.json()["user"]["token"]
    response = await client.post("/api/auth/logout-all", headers=jake.auth)
    assert response.status_code == 204
    assert_error(await me(client, jake.token), 401)
    assert_error(await me(client, other_device), 401)
    fresh = await client.post(
        "/api/users/login",
        json={"user": {"email": jake.email, "password": "correct horse battery"}},
    )
    assert (await me(client, fresh.json()["user"]["token"])).status_code == 200


async def test_the_previous_secret_still_verifies_during_rotation(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    jake = await register(client, "jake")
    user_id = await user_id_of(container, jake.token)
    old_secret = "the-secret-we-used-last-month-32-bytes!"
    rotated = JoseTokenIssuer(
        TEST_SECRET,
        timedelta(minutes=5),
        FakeClock(datetime.now(UTC)),
        previous_secrets=(old_secret,),
    )
    old_token = JoseTokenIssuer(
        old_secret, timedelta(minutes=5), FakeClock(datetime.now(UTC))
    ).issue(user_id)
    assert rotated.verify(old_token).user_id == user_id
    # the running app was not configured with that previous secret: refused there
    assert_error(await me(client, old_token), 401)
