"""A page on another origin can use the whole API: preflights allow every request header the
API reads, and every response header a client needs is exposed to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from tests.api.helpers import publish, register
from tests.apps import memory_app as make_app

APP_ORIGIN = "https://app.example"
# Every request header the API documents (Idempotency-Key: on the roadmap).
REQUEST_HEADERS = {
    "authorization",
    "content-type",
    "if-match",
    "if-none-match",
    "x-api-key",
    "x-request-id",
    "idempotency-key",
}
# Every response header a client needs to read.
RESPONSE_HEADERS = {
    "etag",
    "location",
    "retry-after",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-request-id",
    "www-authenticate",
}


def names(header: str) -> set[str]:
    return {name.strip().lower() for name in header.split(",") if name.strip()}


def preflight(method: str, *headers: str) -> dict[str, str]:
    return {
        "Origin": APP_ORIGIN,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": ", ".join(headers),
    }


@pytest.fixture(params=["*", APP_ORIGIN], ids=["any-origin", "listed-origin"])
async def http(request: pytest.FixtureRequest) -> AsyncIterator[httpx2.AsyncClient]:
    app = make_app(cors_origins=request.param, rate_limit_enabled=False)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


def assert_allowed_for(response: httpx2.Response) -> None:
    assert response.headers["access-control-allow-origin"] in {"*", APP_ORIGIN}
    # Tokens travel in the Authorization header: credentials mode stays off.
    assert "access-control-allow-credentials" not in response.headers


async def test_an_edit_with_if_match_passes_the_preflight_and_exposes_the_new_etag(
    http: httpx2.AsyncClient,
) -> None:
    jake = await register(http, "jake")
    slug = (await publish(http, jake))["slug"]
    read = await http.get(f"/api/articles/{slug}", headers={"Origin": APP_ORIGIN})
    assert "etag" in names(read.headers["access-control-expose-headers"])

    allowed = await http.options(
        f"/api/articles/{slug}",
        headers=preflight("PUT", "if-match", "authorization", "content-type"),
    )
    edited = await http.put(
        f"/api/articles/{slug}",
        json={"article": {"body": "With two hands"}},
        headers={**jake.auth, "Origin": APP_ORIGIN, "If-Match": read.headers["etag"]},
    )

    assert allowed.status_code == 200, allowed.text
    assert_allowed_for(allowed)
    assert "put" in names(allowed.headers["access-control-allow-methods"])
    assert {"if-match", "authorization", "content-type"} <= names(
        allowed.headers["access-control-allow-headers"]
    )
    assert edited.status_code == 200, edited.text
    assert_allowed_for(edited)
    assert "etag" in names(edited.headers["access-control-expose-headers"])
    assert edited.headers["etag"] != read.headers["etag"]


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
async def test_a_preflight_may_ask_for_every_documented_request_header(
    http: httpx2.AsyncClient, method: str
) -> None:
    response = await http.options("/api/articles", headers=preflight(method, *REQUEST_HEADERS))

    assert response.status_code == 200, response.text
    assert_allowed_for(response)
    assert method.lower() in names(response.headers["access-control-allow-methods"])
    assert names(response.headers["access-control-allow-headers"]) >= REQUEST_HEADERS


async def test_every_header_the_openapi_document_reads_is_allowed(
    http: httpx2.AsyncClient,
) -> None:
    document = (await http.get("/api/v1/openapi.json")).json()
    read = {
        scheme["name"].lower()
        for scheme in document["components"]["securitySchemes"].values()
        if scheme.get("in") == "header"
    }
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header":
                    read.add(parameter["name"].lower())

    response = await http.options("/api/articles", headers=preflight("POST", *read))

    assert read
    assert response.status_code == 200, response.text
    assert names(response.headers["access-control-allow-headers"]) >= read


async def test_every_header_a_client_reads_is_exposed(http: httpx2.AsyncClient) -> None:
    response = await http.get("/api/tags", headers={"Origin": APP_ORIGIN})

    assert response.status_code == 200
    assert_allowed_for(response)
    assert names(response.headers["access-control-expose-headers"]) >= RESPONSE_HEADERS


async def test_an_error_answer_is_readable_cross_origin(http: httpx2.AsyncClient) -> None:
    response = await http.get("/api/user", headers={"Origin": APP_ORIGIN})

    assert response.status_code == 401
    assert_allowed_for(response)
    assert "www-authenticate" in names(response.headers["access-control-expose-headers"])
    assert response.json()["code"] == "not_authenticated"


async def test_a_stale_if_match_is_a_readable_412(http: httpx2.AsyncClient) -> None:
    jake = await register(http, "jake")
    slug = (await publish(http, jake))["slug"]

    response = await http.put(
        f"/api/articles/{slug}",
        json={"article": {"body": "late"}},
        headers={**jake.auth, "Origin": APP_ORIGIN, "If-Match": '"stale"'},
    )

    assert response.status_code == 412, response.text
    assert_allowed_for(response)


async def test_rate_limit_headers_are_sent_and_exposed_cross_origin() -> None:
    app = make_app(cors_origins=APP_ORIGIN, rate_limit_enabled=True)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://api.test") as http:
        response = await http.get("/api/tags", headers={"Origin": APP_ORIGIN})

    assert response.status_code == 200
    exposed = names(response.headers["access-control-expose-headers"])
    for header in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"):
        assert header in response.headers
        assert header in exposed
