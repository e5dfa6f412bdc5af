"""The API surface: the OpenAPI document, the /api and /api/v1 prefixes, CORS preflight."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest

from core.articles.model import BODY_MAX, COMMENT_MAX, DESCRIPTION_MAX, TAG_MAX, TAGS_MAX, TITLE_MAX
from core.users.model import BIO_MAX, EMAIL_MAX, IMAGE_URL_MAX, PASSWORD_MAX, USERNAME_MAX
from tests.api.helpers import MEMORY_ONLY, PREFIXES, assert_error, register

pytestmark = MEMORY_ONLY

OPENAPI_URL = "/api/v1/openapi.json"

# The 19 operations of the RealWorld spec (api/openapi.yml in gothinkster/realworld), with
# their success status.
SPEC_OPERATIONS = {
    ("post", "/users/login"): "200",
    ("post", "/users"): "201",
    ("get", "/user"): "200",
    ("put", "/user"): "200",
    ("get", "/profiles/{}"): "200",
    ("post", "/profiles/{}/follow"): "200",
    ("delete", "/profiles/{}/follow"): "200",
    ("get", "/articles/feed"): "200",
    ("get", "/articles"): "200",
    ("post", "/articles"): "201",
    ("get", "/articles/{}"): "200",
    ("put", "/articles/{}"): "200",
    ("delete", "/articles/{}"): "204",
    ("get", "/articles/{}/comments"): "200",
    ("post", "/articles/{}/comments"): "200",
    ("delete", "/articles/{}/comments/{}"): "204",
    ("post", "/articles/{}/favorite"): "200",
    ("delete", "/articles/{}/favorite"): "200",
    ("get", "/tags"): "200",
}
PROTECTED = {
    ("get", "/user"),
    ("put", "/user"),
    ("post", "/profiles/{}/follow"),
    ("delete", "/profiles/{}/follow"),
    ("get", "/articles/feed"),
    ("post", "/articles"),
    ("put", "/articles/{}"),
    ("delete", "/articles/{}"),
    ("post", "/articles/{}/comments"),
    ("delete", "/articles/{}/comments/{}"),
    ("post", "/articles/{}/favorite"),
    ("delete", "/articles/{}/favorite"),
}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def _normalised(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path.removeprefix("/api/v1"))


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, _normalised(path)): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow `$ref`s and unwrap `anyOf: [X, null]` (optional fields)."""
    while True:
        if "$ref" in schema:
            name = schema["$ref"].removeprefix("#/components/schemas/")
            schema = document["components"]["schemas"][name]
        elif "anyOf" in schema:
            schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
        else:
            return schema


@pytest.fixture
async def document(client: httpx2.AsyncClient) -> dict[str, Any]:
    response = await client.get(OPENAPI_URL)
    assert response.status_code == 200, response.text
    openapi: dict[str, Any] = response.json()
    return openapi


async def test_openapi_lists_api_paths_only_under_api_v1(document: dict[str, Any]) -> None:
    api_paths = [path for path in document["paths"] if path.startswith("/api/")]

    assert len(api_paths) >= len({path for _, path in SPEC_OPERATIONS})
    assert all(path.startswith("/api/v1/") for path in api_paths), api_paths


async def test_openapi_has_every_spec_operation_with_the_spec_success_status(
    document: dict[str, Any],
) -> None:
    operations = _operations(document)

    assert set(SPEC_OPERATIONS) <= set(operations)
    for key, status in SPEC_OPERATIONS.items():
        successes = {code for code in operations[key]["responses"] if code.startswith("2")}
        assert successes == {status}, key


async def test_every_operation_has_a_summary_and_tags(document: dict[str, Any]) -> None:
    for key, operation in _operations(document).items():
        assert str(operation.get("summary", "")).strip(), key
        assert operation.get("tags"), key
        assert all(isinstance(tag, str) and tag for tag in operation["tags"]), key


async def test_token_security_scheme_is_declared_and_required_where_auth_is(
    document: dict[str, Any],
) -> None:
    scheme = document["components"]["securitySchemes"]["Token"]

    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    operations = _operations(document)
    for key in PROTECTED:
        assert {"Token": []} in operations[key].get("security", []), key


@pytest.mark.parametrize(
    ("method", "path", "wrapper", "field", "maximum"),
    [
        ("post", "/users", "user", "username", USERNAME_MAX),
        ("post", "/users", "user", "email", EMAIL_MAX),
        ("post", "/users", "user", "password", PASSWORD_MAX),
        ("post", "/users/login", "user", "email", EMAIL_MAX),
        ("post", "/users/login", "user", "password", PASSWORD_MAX),
        ("put", "/user", "user", "username", USERNAME_MAX),
        ("put", "/user", "user", "bio", BIO_MAX),
        ("put", "/user", "user", "image", IMAGE_URL_MAX),
        ("post", "/articles", "article", "title", TITLE_MAX),
        ("post", "/articles", "article", "description", DESCRIPTION_MAX),
        ("post", "/articles", "article", "body", BODY_MAX),
        ("put", "/articles/{}", "article", "title", TITLE_MAX),
        ("put", "/articles/{}", "article", "body", BODY_MAX),
        ("post", "/articles/{}/comments", "comment", "body", COMMENT_MAX),
    ],
)
async def test_request_string_fields_declare_their_max_length(
    document: dict[str, Any], method: str, path: str, wrapper: str, field: str, maximum: int
) -> None:
    operation = _operations(document)[(method, path)]
    body = _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    inner = _resolve(document, body["properties"][wrapper])

    assert _resolve(document, inner["properties"][field])["maxLength"] == maximum


@pytest.mark.parametrize(("method", "path"), [("post", "/articles"), ("put", "/articles/{}")])
async def test_tag_list_declares_its_max_items_and_tag_max_length(
    document: dict[str, Any], method: str, path: str
) -> None:
    operation = _operations(document)[(method, path)]
    body = _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    tag_list = _resolve(
        document, _resolve(document, body["properties"]["article"])["properties"]["tagList"]
    )

    assert tag_list["maxItems"] == TAGS_MAX
    assert tag_list["items"]["maxLength"] == TAG_MAX


# Every spec operation in a working order, with the status the spec gives it.
SCENARIO: list[tuple[str, str, dict[str, Any] | None, int]] = [
    ("GET", "/user", None, 200),
    ("PUT", "/user", {"user": {"bio": "hi"}}, 200),
    ("GET", "/profiles/jake", None, 200),
    ("POST", "/profiles/jake/follow", None, 200),
    ("POST", "/articles", {"article": {"title": "T", "description": "d", "body": "b"}}, 201),
    ("GET", "/articles", None, 200),
    ("GET", "/articles/feed", None, 200),
    ("GET", "/articles/t", None, 200),
    ("PUT", "/articles/t", {"article": {"body": "b2", "tagList": ["x"]}}, 200),
    ("POST", "/articles/t/favorite", None, 200),
    ("DELETE", "/articles/t/favorite", None, 200),
    ("POST", "/articles/t/comments", {"comment": {"body": "c"}}, 200),
    ("GET", "/articles/t/comments", None, 200),
    ("DELETE", "/articles/t/comments/1", None, 204),
    ("GET", "/tags", None, 200),
    ("DELETE", "/articles/t", None, 204),
    ("DELETE", "/profiles/jake/follow", None, 200),
]


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_every_spec_operation_answers_its_status_under_each_prefix(
    client: httpx2.AsyncClient, prefix: str
) -> None:
    await register(client, "jake", prefix=prefix)  # POST /users: 201, checked inside
    jane = await register(client, "jane", prefix=prefix)
    login = await client.post(
        f"{prefix}/users/login", json={"user": {"email": jane.email, "password": jane.password}}
    )
    assert login.status_code == 200, login.text
    auth = {"Authorization": f"Token {login.json()['user']['token']}"}

    for method, path, body, status in SCENARIO:
        response = await client.request(method, prefix + path, json=body, headers=auth)
        assert response.status_code == status, (method, path, response.text)
        if status == 204:
            assert response.content == b"", (method, path)
    assert len(SCENARIO) + 2 == len(SPEC_OPERATIONS)


async def test_same_request_answers_the_same_under_api_and_api_v1(
    client: httpx2.AsyncClient,
) -> None:
    jake = await register(client, "jake")
    await client.post(
        "/api/v1/articles",
        json={"article": {"title": "T", "description": "d", "body": "b", "tagList": ["x"]}},
        headers=jake.auth,
    )

    for path in (
        "/articles",
        "/articles/t",
        "/articles/t/comments",
        "/profiles/jake",
        "/tags",
        "/user",
    ):
        bare = await client.get("/api" + path, headers=jake.auth)
        versioned = await client.get("/api/v1" + path, headers=jake.auth)
        assert (bare.status_code, bare.json()) == (versioned.status_code, versioned.json()), path
        assert bare.status_code == 200, path
    unknown = await client.get("/api/articles/nope")
    assert_error(unknown, 404, "body")
    assert unknown.json()["errors"] == (await client.get("/api/v1/articles/nope")).json()["errors"]


async def test_cors_preflight_is_answered_for_a_cross_origin_client(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.options(
        "/api/articles",
        headers={
            "Origin": "https://conduit.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )

    assert response.status_code == 200, response.text
    assert response.headers["Access-Control-Allow-Origin"] in {"*", "https://conduit.example"}
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed
