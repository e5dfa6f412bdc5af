"""The OpenAPI document describes every operation fully: a route added without a summary,
tags, models, its error responses or an example fails here."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from entrypoints.settings import Settings
from tests.api.helpers import MEMORY_ONLY
from tests.apps import TEST_SECRET

pytestmark = MEMORY_ONLY

OPENAPI_URL = "/api/v1/openapi.json"
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
# Tags name domains; a new domain is added here on purpose, not by a typo in a route.
DOMAINS = {
    "users",
    "profiles",
    "articles",
    "favorites",
    "comments",
    "tags",
    "auth",
    "api keys",
    "admin",
    "health",
    "notifications",
    "media",  # issue 14
    "identities",  # issue 15
    "webhooks",  # issue 13
}
SECURITY_SCHEMES = {"Token", "OAuth2", "ApiKey"}
# 403 cannot be read off the document: these operations check a scope, a session-only
# credential, a role, or authorship.
MAY_BE_FORBIDDEN = {
    ("put", "/api/v1/user"),
    ("post", "/api/v1/articles"),
    ("get", "/api/v1/articles/feed"),
    ("put", "/api/v1/articles/{slug}"),
    ("delete", "/api/v1/articles/{slug}"),
    ("post", "/api/v1/articles/{slug}/favorite"),
    ("delete", "/api/v1/articles/{slug}/favorite"),
    ("post", "/api/v1/articles/{slug}/comments"),
    ("delete", "/api/v1/articles/{slug}/comments/{comment_id}"),
    ("post", "/api/v1/profiles/{username}/follow"),
    ("delete", "/api/v1/profiles/{username}/follow"),
    ("post", "/api/v1/auth/logout-all"),
    ("get", "/api/v1/user/api-keys"),
    ("post", "/api/v1/user/api-keys"),
    ("delete", "/api/v1/user/api-keys/{key_id}"),
    ("get", "/api/v1/admin/users"),
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/notifications/read"),
    ("patch", "/api/v1/admin/users/{username}"),
    # issue 15: session only; a sign-in the provider vouches for may not take over an account
    ("post", "/api/v1/user/identities/authorization"),
    ("post", "/api/v1/user/identities"),
    ("get", "/api/v1/user/identities"),
    ("delete", "/api/v1/user/identities/{identity_id}"),
    ("get", "/api/v1/auth/oidc/{provider}/callback"),
}
RATE_LIMITED = {
    ("post", "/api/v1/users/login"),
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/oidc/exchange"),  # issue 15
}

Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture
async def document(client: httpx2.AsyncClient) -> dict[str, Any]:
    response = await client.get(OPENAPI_URL)
    assert response.status_code == 200, response.text
    doc: dict[str, Any] = response.json()
    return doc


def operations(doc: dict[str, Any]) -> Iterator[Operation]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = ref.removeprefix("#/components/schemas/")
    resolved: dict[str, Any] = doc["components"]["schemas"][name]
    return resolved


def has_example(doc: dict[str, Any], holder: dict[str, Any]) -> bool:
    """A media type or parameter with `example(s)`, or whose (referenced) schema has them at
    its top level: an example of the whole body, not of one field."""
    if holder.get("example") is not None or holder.get("examples"):
        return True
    schema = resolve(doc, holder.get("schema", {}))
    return schema.get("example") is not None or bool(schema.get("examples"))


def json_media(holder: dict[str, Any]) -> list[dict[str, Any]]:
    return list((holder.get("content") or {}).values())


def problems(doc: dict[str, Any], method: str, path: str, op: dict[str, Any]) -> list[str]:
    """What the document lacks for this operation; empty when it is complete.

    Examples: of the request body, of every success body and of every path parameter (so
    an operation that takes or returns anything shows it; one that takes nothing and
    answers 204 has nothing to show).
    """
    found: list[str] = []
    key = (method, path)
    responses: dict[str, Any] = op.get("responses", {})
    statuses = set(responses) - {"304"}  # Not Modified: no body by definition
    # A redirect (the OpenID Connect login and callback, issue 15) is a success without a body.
    successes = {s for s in statuses if s.startswith(("2", "302"))}
    params: list[dict[str, Any]] = op.get("parameters", [])
    body = op.get("requestBody")

    if not str(op.get("summary", "")).strip():
        found.append("no summary")
    tags = op.get("tags") or []
    if not tags or not set(tags) <= DOMAINS:
        found.append(f"tags {tags} are not domains from {sorted(DOMAINS)}")

    if body is not None:
        media = json_media(body)
        if not media or any("$ref" not in m.get("schema", {}) for m in media):
            found.append("request body without a model")
        if not media or not all(has_example(doc, m) for m in media):
            found.append("request body without an example")
    if not successes:
        found.append("no success response")
    for status in sorted(successes):
        media = json_media(responses[status])  # none: 204, or a documented empty body
        if any("$ref" not in m.get("schema", {}) for m in media):
            found.append(f"{status} response without a model")
        if not all(has_example(doc, m) for m in media):
            found.append(f"{status} response without an example")
    for param in params:
        if param["in"] == "path" and not has_example(doc, param):
            found.append(f"path parameter {param['name']} without an example")

    for status in sorted(statuses - successes):
        media = json_media(responses[status])
        if not media or any("$ref" not in m.get("schema", {}) for m in media):
            found.append(f"{status} response without its error model")

    expected: set[str] = set()
    if op.get("security"):
        expected.add("401")
        if not {name for req in op["security"] for name in req} <= SECURITY_SCHEMES:
            found.append(f"security {op['security']} names undeclared schemes")
    if any(p["in"] == "path" for p in params):
        expected.add("404")
    if params or body is not None:
        expected.add("422")
    if body is not None:
        # An unparsable body (400) or one over MAX_BODY_BYTES (413); a JSON body sent as
        # another media type is 415.
        expected |= {"400", "413"}
        if any(media_type.endswith("json") for media_type in body.get("content", {})):
            expected.add("415")
    if key in MAY_BE_FORBIDDEN:
        expected.add("403")
    if key in RATE_LIMITED:
        expected.add("429")
    for status in sorted(expected - statuses):
        found.append(f"error response {status} not declared")
    return found


def test_every_operation_is_documented_completely(document: dict[str, Any]) -> None:
    report = {
        f"{method.upper()} {path}": found
        for method, path, op in operations(document)
        if (found := problems(document, method, path, op))
    }
    assert report == {}


def test_the_document_lists_the_operations_it_must_check(document: dict[str, Any]) -> None:
    listed = {(method, path) for method, path, _ in operations(document)}
    assert listed >= MAY_BE_FORBIDDEN | RATE_LIMITED
    assert len(listed) >= 30


def test_security_schemes_are_declared(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == SECURITY_SCHEMES
    assert schemes["Token"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["Token"]["description"],
    }
    assert schemes["OAuth2"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert schemes["ApiKey"]["name"] == "X-API-Key"


def test_validation_errors_are_documented_in_our_error_schema(document: dict[str, Any]) -> None:
    # FastAPI's default 422 body (`{"detail": [...]}`) is not what the API answers.
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_completeness_check_flags_an_undocumented_operation(
    document: dict[str, Any],
) -> None:
    bare = {"responses": {"200": {"description": "OK", "content": {"application/json": {}}}}}
    found = problems(document, "post", "/api/v1/users/login", bare)
    assert "no summary" in found
    assert any(p.startswith("tags") for p in found)
    assert "200 response without a model" in found
    assert "error response 429 not declared" in found


def test_the_completeness_check_flags_a_body_operation_without_400(
    document: dict[str, Any],
) -> None:
    register = dict(document["paths"]["/api/v1/users"]["post"])
    register["responses"] = {
        status: answer for status, answer in register["responses"].items() if status != "400"
    }

    assert problems(document, "post", "/api/v1/users", register) == [
        "error response 400 not declared"
    ]


def json_body_operations(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method, path)
        for method, path, op in operations(doc)
        if "application/json" in (op.get("requestBody") or {}).get("content", {})
    ]


async def test_malformed_json_is_answered_as_documented(
    client: httpx2.AsyncClient, document: dict[str, Any]
) -> None:
    checked = json_body_operations(document)
    for method, path in checked:
        url = path.format(
            slug="a-slug",
            username="jake",
            comment_id=1,
            key_id=uuid.uuid4(),
            webhook_id=uuid.uuid4(),
        )
        response = await client.request(
            method, url, content=b'{"broken', headers={"Content-Type": "application/json"}
        )

        assert response.status_code == 400, (method, path, response.text)
        assert response.json()["code"] == "malformed_json"
        assert "400" in document["paths"][path][method]["responses"], (method, path)
    assert len(checked) >= 8


def limited(fail_mode: str) -> Settings:
    return Settings(
        environment="test",
        secret_key=TEST_SECRET,
        database_url="memory://",
        rate_limit_enabled=True,
        rate_limit_fail_mode=fail_mode,
    )


@pytest.mark.parametrize(
    ("settings", "statuses"),
    [(limited("open"), {"429"}), (limited("closed"), {"429", "503"})],
    ids=["fail-open", "fail-closed"],
)
def test_with_rate_limits_on_every_api_operation_documents_them(
    document: dict[str, Any], statuses: set[str]
) -> None:
    api = [(m, p, op) for m, p, op in operations(document) if p.startswith("/api/")]
    missing = {f"{m.upper()} {p}" for m, p, op in api if not statuses <= set(op["responses"])}
    assert missing == set()
    assert len(api) >= 25
