"""Validation answers: one 422 names every invalid field, and every message reads the same way
("<field> <message>"), whether Pydantic or a core rule found the fault."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest

from core.articles.model import TAG_MAX, TAGS_MAX
from core.users.model import PASSWORD_MIN, USERNAME_MAX
from tests.api.helpers import MEMORY_ONLY, Account, assert_error, publish, register

pytestmark = MEMORY_ONLY

# The core's voice: a lower-case verb phrase that follows the field name, no full stop.
VOICE = re.compile(r"^(is|can't|must|may|has) [^A-Z].*[^.]$")
# What Pydantic says when its messages leak through.
PYDANTIC_WORDS = ("Input should", "Field required", "should have", "a valid", "Value error")


def assert_voice(errors: dict[str, list[str]]) -> None:
    for field, messages in errors.items():
        for message in messages:
            assert VOICE.match(message), f"{field} {message}"
            assert not any(word in message for word in PYDANTIC_WORDS), f"{field} {message}"


def _body(response: httpx2.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    return body


# --- every field at once ----------------------------------------------------------------


async def test_register_reports_every_invalid_field_in_one_answer(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.post(
        "/api/users", json={"user": {"username": "bob", "email": "nope", "password": "x"}}
    )

    errors = assert_error(response, 422, "email", "password")
    assert errors == {
        "email": ["is invalid"],
        "password": [f"is too short (minimum is {PASSWORD_MIN} characters)"],
    }
    assert _body(response)["code"] == "validation_failed"
    assert _body(response)["requestId"] == response.headers["x-request-id"]


async def test_register_reports_type_errors_and_rule_breaks_together(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.post(
        "/api/users", json={"user": {"username": "  ", "email": "nope", "password": 5}}
    )

    assert assert_error(response, 422, "username", "email", "password") == {
        "username": ["can't be blank"],
        "email": ["is invalid"],
        "password": ["must be a string"],
    }


async def test_update_user_reports_every_invalid_field(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    changes = {"email": "nope", "password": "short", "image": "ftp://x", "username": "a b"}

    response = await client.put("/api/user", json={"user": changes}, headers=jake.auth)

    errors = assert_error(response, 422, "email", "password", "image", "username")
    assert errors["image"] == ["must be an http or https URL"]
    assert_voice(errors)
    assert (await client.get("/api/user", headers=jake.auth)).json()["user"]["email"] == (
        jake.email
    )


async def test_create_article_reports_every_invalid_field(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    article = {"title": "   ", "description": "", "tagList": ["x" * (TAG_MAX + 1)]}

    response = await client.post("/api/articles", json={"article": article}, headers=jake.auth)

    assert assert_error(response, 422, "title", "description", "body", "tagList") == {
        "title": ["can't be blank"],
        "description": ["can't be blank"],
        "body": ["can't be blank"],
        "tagList": [f"has an item that is too long (maximum is {TAG_MAX} characters)"],
    }


async def test_update_article_reports_every_invalid_field(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    slug = (await publish(client, jake))["slug"]
    article = {"title": " ", "body": "", "tagList": [str(i) for i in range(TAGS_MAX + 1)]}

    response = await client.put(
        f"/api/articles/{slug}", json={"article": article}, headers=jake.auth
    )

    assert assert_error(response, 422, "title", "body", "tagList") == {
        "title": ["can't be blank"],
        "body": ["can't be blank"],
        "tagList": [f"has too many items (maximum is {TAGS_MAX})"],
    }


async def test_comment_with_a_blank_body_is_refused_before_the_use_case(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    slug = (await publish(client, jake))["slug"]

    response = await client.post(
        f"/api/articles/{slug}/comments", json={"comment": {"body": "  \n "}}, headers=jake.auth
    )

    assert assert_error(response, 422, "body") == {"body": ["can't be blank"]}


async def test_query_parameters_are_reported_together(client: httpx2.AsyncClient) -> None:
    response = await client.get("/api/articles", params={"limit": 500, "offset": -1})

    assert assert_error(response, 422, "limit", "offset") == {
        "limit": ["must be at most 100"],
        "offset": ["must be at least 0"],
    }


async def test_admin_changes_report_every_invalid_field(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    response = await client.patch(
        "/api/admin/users/jake", json={"role": "king", "active": "maybe"}, headers=jake.auth
    )

    assert assert_error(response, 422, "role", "active") == {
        "role": ["must be one of 'user', 'moderator' or 'admin'"],
        "active": ["must be true or false"],
    }


# --- one voice --------------------------------------------------------------------------


async def test_pydantic_and_core_messages_read_alike(client: httpx2.AsyncClient) -> None:
    # username: Pydantic's max_length; password: the core's check_password.
    response = await client.post(
        "/api/users",
        json={
            "user": {
                "username": "x" * (USERNAME_MAX + 1),
                "email": "jake@example.com",
                "password": "short",
            }
        },
    )

    errors = assert_error(response, 422, "username", "password")
    assert errors == {
        "username": [f"is too long (maximum is {USERNAME_MAX} characters)"],
        "password": [f"is too short (minimum is {PASSWORD_MIN} characters)"],
    }
    assert_voice(errors)


async def test_a_username_taken_reads_like_a_validation_message(
    client: httpx2.AsyncClient,
) -> None:
    await register(client, "jake")

    response = await client.post(
        "/api/users",
        json={"user": {"username": "jake", "email": "other@example.com", "password": "password1"}},
    )

    errors = assert_error(response, 422, "username")
    assert errors == {"username": ["has already been taken"]}
    assert_voice(errors)


async def test_register_reports_a_taken_username_and_a_taken_email_together(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    response = await client.post(
        "/api/users",
        json={"user": {"username": "jake", "email": jake.email.upper(), "password": "password1"}},
    )

    errors = assert_error(response, 422, "username", "email")
    assert errors == {"username": ["has already been taken"], "email": ["has already been taken"]}
    assert _body(response)["code"] == "conflict"
    assert _body(response)["requestId"] == response.headers["x-request-id"]


async def test_update_user_reports_a_taken_username_and_a_taken_email_together(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    changes = {"username": "jane", "email": jane.email, "bio": "new bio"}

    response = await client.put("/api/user", json={"user": changes}, headers=jake.auth)

    errors = assert_error(response, 422, "username", "email")
    assert errors == {"username": ["has already been taken"], "email": ["has already been taken"]}
    assert _body(response)["code"] == "conflict"
    assert (await client.get("/api/user", headers=jake.auth)).json()["user"]["bio"] == ""


async def test_api_key_with_a_blank_name_and_an_unknown_scope_reports_both(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    response = await client.post(
        "/api/user/api-keys", json={"name": "  ", "scopes": ["root:all"]}, headers=jake.auth
    )

    errors = assert_error(response, 422, "name", "scopes")
    assert errors["name"] == ["can't be blank"]
    assert_voice(errors)


async def test_api_key_without_scopes_reads_after_the_field_name(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    response = await client.post(
        "/api/user/api-keys", json={"name": "  ", "scopes": []}, headers=jake.auth
    )

    assert assert_error(response, 422, "name", "scopes") == {
        "name": ["can't be blank"],
        "scopes": ["must have at least one scope"],
    }


BAD_REQUESTS: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]] = [
    ("GET", "/api/articles", {"limit": "x", "offset": "1.5"}, None),
    ("GET", "/api/articles", {"limit": 0, "tag": "t" * (TAG_MAX + 1)}, None),
    ("POST", "/api/users", None, {"user": {"username": 1, "email": [], "password": None}}),
    ("POST", "/api/users", None, {"user": {}}),
    ("POST", "/api/users", None, {"user": []}),
    ("POST", "/api/users", None, {}),
    ("POST", "/api/users/login", None, {"user": {"email": 1}}),
    ("PUT", "/api/user", None, {"user": {"bio": 5, "image": "not a url"}}),
    ("POST", "/api/articles", None, {"article": {"title": 1, "tagList": "x"}}),
    ("POST", "/api/articles", None, {"article": {"title": "t", "tagList": [1, None]}}),
    ("PUT", "/api/articles/{slug}", None, {"article": {"description": " ", "tagList": {}}}),
    ("POST", "/api/articles/{slug}/comments", None, {"comment": {"body": ["x"]}}),
    ("DELETE", "/api/articles/{slug}/comments/0", None, None),
    ("DELETE", "/api/articles/{slug}/comments/x", None, None),
    ("POST", "/api/user/api-keys", None, {"name": " ", "scopes": ["nope"]}),
    ("DELETE", "/api/user/api-keys/not-a-uuid", None, None),
    ("GET", "/api/admin/users", {"limit": 1000, "active": "maybe", "role": "x"}, None),
]


@pytest.mark.parametrize(("method", "path", "params", "body"), BAD_REQUESTS)
async def test_every_validation_message_speaks_in_the_core_voice(
    client: httpx2.AsyncClient,
    jake: Account,
    method: str,
    path: str,
    params: dict[str, Any] | None,
    body: dict[str, Any] | None,
) -> None:
    slug = (await publish(client, jake))["slug"]

    response = await client.request(
        method, path.format(slug=slug), params=params, json=body, headers=jake.auth
    )

    assert response.status_code == 422, response.text
    errors: dict[str, list[str]] = _body(response)["errors"]
    assert errors
    assert_voice(errors)


async def test_the_token_endpoint_keeps_the_oauth_error_shape(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.post("/api/auth/token", data={"grant_type": "password"})

    assert response.status_code == 400, response.text
    assert set(_body(response)) == {"error", "error_description"}
