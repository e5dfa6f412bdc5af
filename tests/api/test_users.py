"""Registration, login and the current user: /users, /users/login, /user."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from core.users.model import BIO_MAX, EMAIL_MAX, PASSWORD_MAX, USERNAME_MAX
from tests.api.helpers import MEMORY_ONLY, PASSWORD, Account, assert_error, register

USER_KEYS = {"email", "token", "username", "bio", "image"}


def _new_user(**overrides: Any) -> dict[str, Any]:
    user: dict[str, Any] = {"username": "jake", "email": "jake@jake.jake", "password": PASSWORD}
    user.update(overrides)
    return {"user": user}


async def _login(
    client: httpx2.AsyncClient, email: str, password: str = PASSWORD
) -> httpx2.Response:
    return await client.post(
        "/api/users/login", json={"user": {"email": email, "password": password}}
    )


async def _current(client: httpx2.AsyncClient, account: Account) -> dict[str, Any]:
    response = await client.get("/api/user", headers=account.auth)
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()["user"]
    return user


async def test_register_answers_201_with_the_user_and_a_token(client: httpx2.AsyncClient) -> None:
    response = await client.post("/api/users", json=_new_user())

    assert response.status_code == 201, response.text
    user = response.json()["user"]
    assert set(user) == USER_KEYS
    assert user["username"] == "jake"
    assert user["email"] == "jake@jake.jake"
    assert user["bio"] == ""
    assert user["image"] is None
    assert user["token"].count(".") == 2  # a JWT
    assert "password" not in response.text


async def test_login_answers_200_with_a_token_that_authenticates(
    client: httpx2.AsyncClient,
) -> None:
    await register(client, "jake", email="jake@jake.jake")

    response = await _login(client, "jake@jake.jake")

    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert set(user) == USER_KEYS
    assert user["username"] == "jake"
    me = await client.get("/api/user", headers={"Authorization": f"Token {user['token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["user"]["username"] == "jake"


async def test_login_matches_the_email_regardless_of_case(client: httpx2.AsyncClient) -> None:
    await register(client, "jake", email="Jake@Example.com")

    response = await _login(client, "JAKE@example.COM")

    assert response.status_code == 200, response.text
    assert response.json()["user"]["email"] == "jake@example.com"


@MEMORY_ONLY
async def test_login_is_refused_with_401_when_the_password_is_wrong(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    response = await _login(client, jake.email, "not the password")

    assert_error(response, 401, "email or password")
    assert response.headers["WWW-Authenticate"] == "Token"


@MEMORY_ONLY
async def test_login_fails_alike_when_the_email_is_unknown(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    wrong_password = await _login(client, jake.email, "not the password")
    unknown_email = await _login(client, "nobody@example.com")

    assert_error(unknown_email, 401, "email or password")
    assert unknown_email.json()["errors"] == wrong_password.json()["errors"]


@MEMORY_ONLY
@pytest.mark.parametrize("scheme", ["Token", "Bearer", "token", "bearer"])
async def test_current_user_accepts_token_and_bearer_schemes(
    client: httpx2.AsyncClient, jake: Account, scheme: str
) -> None:
    response = await client.get("/api/user", headers={"Authorization": f"{scheme} {jake.token}"})

    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert set(user) == USER_KEYS
    assert user["username"] == "jake"
    assert user["email"] == jake.email
    assert user["token"] == jake.token


async def test_update_user_changes_the_sent_fields_only(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    response = await client.put(
        "/api/user",
        json={"user": {"bio": "I like to skateboard", "image": "https://example.com/j.png"}},
        headers=jake.auth,
    )

    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert set(user) == USER_KEYS
    assert (user["bio"], user["image"]) == ("I like to skateboard", "https://example.com/j.png")
    assert (user["username"], user["email"]) == ("jake", jake.email)
    assert await _current(client, jake) == user


async def test_update_user_changes_username_email_and_password(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    response = await client.put(
        "/api/user",
        json={"user": {"username": "jacob", "email": "jacob@example.com", "password": "new pass!"}},
        headers=jake.auth,
    )

    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == "jacob"
    assert (await _login(client, jake.email)).status_code == 401
    assert (await _login(client, "jacob@example.com")).status_code == 401
    assert (await _login(client, "jacob@example.com", "new pass!")).status_code == 200
    assert (await client.get("/api/profiles/jacob")).status_code == 200
    assert (await client.get("/api/profiles/jake")).status_code == 404


@MEMORY_ONLY
@pytest.mark.parametrize("cleared", [None, ""])
async def test_update_user_clears_bio_and_image_when_null_or_empty(
    client: httpx2.AsyncClient, jake: Account, cleared: str | None
) -> None:
    filled = {"bio": "bio", "image": "https://example.com/j.png"}
    assert (await client.put("/api/user", json={"user": filled}, headers=jake.auth)).is_success

    response = await client.put(
        "/api/user", json={"user": {"bio": cleared, "image": cleared}}, headers=jake.auth
    )

    assert response.status_code == 200, response.text
    user = await _current(client, jake)
    assert (user["bio"], user["image"]) == ("", None)


async def test_register_refuses_a_taken_username_with_422(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    response = await client.post(
        "/api/users", json=_new_user(username="jake", email="other@example.com")
    )

    assert_error(response, 422, "username")
    # Nothing was half-written: the second email has no account.
    assert (await _login(client, "other@example.com")).status_code == 401


async def test_register_refuses_a_taken_email_regardless_of_case_with_422(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    response = await client.post(
        "/api/users", json=_new_user(username="other", email=jake.email.upper())
    )

    assert_error(response, 422, "email")
    assert (await client.get("/api/profiles/other")).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [({"username": "jane"}, "username"), ({"email": "JANE@example.com"}, "email")],
)
async def test_update_user_refuses_a_taken_username_or_email_and_changes_nothing(
    client: httpx2.AsyncClient, jake: Account, jane: Account, change: dict[str, str], field: str
) -> None:
    before = await _current(client, jake)

    response = await client.put(
        "/api/user", json={"user": {"bio": "new bio", **change}}, headers=jake.auth
    )

    assert_error(response, 422, field)
    assert await _current(client, jake) == before


@MEMORY_ONLY
async def test_update_user_that_is_rejected_changes_nothing(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    before = await _current(client, jake)

    response = await client.put(
        "/api/user",
        json={"user": {"bio": "new bio", "username": "jacob", "password": "short"}},
        headers=jake.auth,
    )

    assert_error(response, 422, "password")
    assert await _current(client, jake) == before
    assert (await _login(client, jake.email)).status_code == 200


@MEMORY_ONLY
async def test_register_that_is_rejected_leaves_no_account(client: httpx2.AsyncClient) -> None:
    rejected = await client.post("/api/users", json=_new_user(password="short"))
    assert_error(rejected, 422, "password")

    assert (await _login(client, "jake@jake.jake", "short")).status_code == 401
    assert (await client.get("/api/profiles/jake")).status_code == 404
    # Neither name nor email is held by the failed attempt.
    assert (await client.post("/api/users", json=_new_user())).status_code == 201


@MEMORY_ONLY
@pytest.mark.parametrize("username", [".", ".."])
async def test_register_refuses_a_dot_only_username(
    client: httpx2.AsyncClient, username: str
) -> None:
    response = await client.post("/api/users", json=_new_user(username=username))

    assert_error(response, 422, "username")


@MEMORY_ONLY
class TestRegistrationValidation:
    @pytest.mark.parametrize(
        ("user", "field"),
        [
            ({"username": ""}, "username"),
            ({"username": "   "}, "username"),
            ({"username": "x" * (USERNAME_MAX + 1)}, "username"),
            ({"username": "has space"}, "username"),
            ({"username": "' OR 1=1 --"}, "username"),
            ({"username": "../etc"}, "username"),
            ({"username": 123}, "username"),
            ({"username": None}, "username"),
            ({"email": ""}, "email"),
            ({"email": "   "}, "email"),
            ({"email": "not-an-email"}, "email"),
            ({"email": "two@@example.com"}, "email"),
            ({"email": "a@b"}, "email"),
            ({"email": "x" * EMAIL_MAX + "@example.com"}, "email"),
            ({"password": ""}, "password"),
            ({"password": "        "}, "password"),
            ({"password": "1234567"}, "password"),
            ({"password": "x" * (PASSWORD_MAX + 1)}, "password"),
            ({"password": ["a", "list"]}, "password"),
        ],
    )
    async def test_register_refuses_an_invalid_field_with_422(
        self, client: httpx2.AsyncClient, user: dict[str, Any], field: str
    ) -> None:
        response = await client.post("/api/users", json=_new_user(**user))

        assert_error(response, 422, field)

    @pytest.mark.parametrize("missing", ["username", "email", "password"])
    async def test_register_refuses_a_missing_field_with_422(
        self, client: httpx2.AsyncClient, missing: str
    ) -> None:
        body = _new_user()
        del body["user"][missing]

        response = await client.post("/api/users", json=body)

        assert assert_error(response, 422, missing)[missing] == ["can't be blank"]

    async def test_register_names_every_invalid_field(self, client: httpx2.AsyncClient) -> None:
        response = await client.post(
            "/api/users", json={"user": {"username": 1, "email": 2, "password": 3}}
        )

        assert_error(response, 422, "username", "email", "password")

    async def test_register_reports_the_maximum_of_a_too_long_field(
        self, client: httpx2.AsyncClient
    ) -> None:
        response = await client.post("/api/users", json=_new_user(username="x" * 41))

        assert assert_error(response, 422, "username")["username"] == [
            f"is too long (maximum is {USERNAME_MAX} characters)"
        ]

    @pytest.mark.parametrize("body", [{}, {"user": None}, {"username": "jake"}, {"user": []}])
    async def test_register_refuses_a_body_without_a_user_object(
        self, client: httpx2.AsyncClient, body: dict[str, Any]
    ) -> None:
        response = await client.post("/api/users", json=body)

        assert_error(response, 422, "body")

    @pytest.mark.parametrize("missing", ["email", "password"])
    async def test_login_refuses_a_missing_field_with_422(
        self, client: httpx2.AsyncClient, missing: str
    ) -> None:
        user = {"email": "jake@jake.jake", "password": PASSWORD}
        del user[missing]

        response = await client.post("/api/users/login", json={"user": user})

        assert_error(response, 422, missing)

    async def test_login_refuses_blank_credentials_with_401(
        self, client: httpx2.AsyncClient
    ) -> None:
        response = await client.post(
            "/api/users/login", json={"user": {"email": "", "password": ""}}
        )

        assert_error(response, 401, "email or password")

    @pytest.mark.parametrize(
        ("user", "field"),
        [
            ({"username": ""}, "username"),
            ({"username": "bad name"}, "username"),
            ({"email": "nope"}, "email"),
            ({"password": "short"}, "password"),
            ({"image": "javascript:alert(1)"}, "image"),
            ({"bio": "x" * (BIO_MAX + 1)}, "bio"),
            ({"bio": 42}, "bio"),
        ],
    )
    async def test_update_user_refuses_an_invalid_field_with_422(
        self, client: httpx2.AsyncClient, jake: Account, user: dict[str, Any], field: str
    ) -> None:
        response = await client.put("/api/user", json={"user": user}, headers=jake.auth)

        assert_error(response, 422, field)

    async def test_update_user_requires_a_token(self, client: httpx2.AsyncClient) -> None:
        response = await client.put("/api/user", json={"user": {"bio": "x"}})

        assert_error(response, 401, "body")
