"""Hardening through the ASGI app: the one error schema for every status, request limits,
security headers, CORS, gzip and request ids. (Limits that only a real server has, and the
server surviving bad input, are in tests/e2e/test_hardening_live.py.)"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx2
import pytest
from fastapi import FastAPI
from loguru import logger
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.lifespan import Infrastructure
from entrypoints.settings import Settings
from entrypoints.storage.memory import MemoryStorage
from tests.api.helpers import PASSWORD, publish, register
from tests.apps import TEST_SECRET
from tests.apps import memory_app as make_app
from tests.fakes.passwords import FakePasswordHasher

if TYPE_CHECKING:
    from loguru import Record
    from starlette.types import Message

ERROR_KEYS = {"errors", "code", "requestId"}
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"
JSON = {"Content-Type": "application/json"}
A_USER = b'{"user": {"username": "jake", "email": "jake@example.com", "password": "password1"}}'


class ExplodingHasher(FakePasswordHasher):
    """A PasswordHasher whose failure text looks like everything a 500 must not show."""

    async def hash(self, password: str) -> str:
        raise RuntimeError(
            'SELECT * FROM users WHERE password = "hunter2-secret" -- at /srv/conduit/core.py:42'
        )


def client_of(app: FastAPI, base_url: str = "http://test") -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=base_url)


@pytest.fixture
async def http() -> AsyncIterator[httpx2.AsyncClient]:
    async with client_of(make_app()) as client:
        yield client


@pytest.fixture
def records() -> Iterator[list[Record]]:
    """Every loguru record emitted during the test, DEBUG and up."""
    captured: list[Record] = []
    sink = logger.add(lambda message: captured.append(message.record), level="DEBUG")
    yield captured
    logger.remove(sink)


def assert_error_schema(
    response: httpx2.Response, status: int, code: str, *fields: str
) -> dict[str, list[str]]:
    """`status`, and exactly {"errors": {<fields>: [messages]}, "code", "requestId"}, whose
    requestId is the X-Request-ID header."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["code"] == code, body
    assert body["requestId"] == response.headers["x-request-id"]
    assert set(body["errors"]) == set(fields or ("body",)), body
    for messages in body["errors"].values():
        assert messages, body
        assert all(isinstance(m, str) and m.strip() for m in messages), body
    errors: dict[str, list[str]] = body["errors"]
    return errors


async def still_serving(http: httpx2.AsyncClient) -> None:
    assert (await http.get("/api/tags")).status_code == 200


async def call_asgi(
    app: FastAPI,
    method: str,
    raw_path: bytes,
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
    chunks: list[bytes] | None = None,
) -> tuple[int, dict[str, str], bytes, int]:
    """Call the app with a hand-made scope (paths a client library would normalise);
    returns status, headers, body and how many body chunks the app asked for."""
    from urllib.parse import unquote_to_bytes

    pending = list(chunks or [])
    asked = 0

    async def receive() -> Message:
        nonlocal asked
        if not pending:
            return {"type": "http.disconnect"}
        asked += 1
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote_to_bytes(raw_path).decode("utf-8", "surrogateescape"),
        "raw_path": raw_path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test"), *(headers or [])],
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response_headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], response_headers, body, asked


# --- one error schema, every status -----------------------------------------------------------


async def test_malformed_json_is_400_malformed_json(http: httpx2.AsyncClient) -> None:
    response = await http.post("/api/users", content=b'{"user": {"username": ', headers=JSON)

    errors = assert_error_schema(response, 400, "malformed_json")
    assert errors == {"body": ["is not valid JSON"]}
    await still_serving(http)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"user": {"username": "jake", "username": "admin", "email": "j@x.io", '
         b'"password": "password1"}}', "username"),
        (b'{"user": {"username": "jake", "email": "j@x.io", "password": "password1"}, '
         b'"user": {"username": "admin", "email": "a@x.io", "password": "password1"}}', "user"),
    ],
)  # fmt: skip
async def test_a_key_given_twice_is_400_malformed_json_and_writes_nothing(
    http: httpx2.AsyncClient, body: bytes, key: str
) -> None:
    # "The last one wins" would let two parsers (a proxy's and ours) read two requests.
    response = await http.post("/api/users", content=body, headers=JSON)

    errors = assert_error_schema(response, 400, "malformed_json")
    assert errors == {"body": [f"has the key '{key}' twice"]}
    for username in ("jake", "admin"):
        assert (await http.get(f"/api/profiles/{username}")).status_code == 404


async def test_a_trailing_slash_is_404_and_never_redirects_to_the_host_header(
    http: httpx2.AsyncClient,
) -> None:
    response = await http.get("/api/articles/", headers={"Host": "evil.example"})

    assert_error_schema(response, 404, "not_found")
    assert "location" not in response.headers


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b'{"user": {"email": 42}}', b"{}"])
async def test_json_that_breaks_the_schema_is_422_validation_failed(
    http: httpx2.AsyncClient, body: bytes
) -> None:
    response = await http.post("/api/users", content=body, headers=JSON)

    assert_error_schema(response, 422, "validation_failed", *response.json()["errors"])


async def test_invalid_field_values_name_their_field(http: httpx2.AsyncClient) -> None:
    response = await http.post(
        "/api/users", json={"user": {"username": "", "email": "j@x.io", "password": "p" * 9}}
    )

    assert "username" in assert_error_schema(response, 422, "validation_failed", "username")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", None],
)
async def test_body_with_a_content_type_other_than_json_is_415(
    http: httpx2.AsyncClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    request = http.build_request("POST", "/api/users", content=A_USER, headers=headers)
    assert request.headers.get("Content-Type") == content_type

    response = await http.send(request)

    assert_error_schema(response, 415, "unsupported_media_type")
    await still_serving(http)


async def test_json_with_a_charset_or_a_json_suffix_is_accepted(http: httpx2.AsyncClient) -> None:
    first = await http.post(
        "/api/users", content=A_USER, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    other = A_USER.replace(b"jake", b"jane")
    second = await http.post(
        "/api/users", content=other, headers={"Content-Type": "application/vnd.api+json"}
    )

    assert (first.status_code, second.status_code) == (201, 201)


async def test_missing_credentials_are_401_not_authenticated(http: httpx2.AsyncClient) -> None:
    response = await http.get("/api/user")

    assert_error_schema(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Token"


async def test_editing_someone_elses_article_is_403_permission_denied(
    http: httpx2.AsyncClient,
) -> None:
    jake, jane = await register(http, "jake"), await register(http, "jane")
    article = await publish(http, jake)

    response = await http.put(
        f"/api/articles/{article['slug']}",
        json={"article": {"body": "mine now"}},
        headers=jane.auth,
    )

    assert_error_schema(response, 403, "permission_denied")


async def test_missing_article_is_404_not_found(http: httpx2.AsyncClient) -> None:
    assert_error_schema(await http.get("/api/articles/no-such-slug"), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/nope", "/nope", "/api/v2/articles", "/api/articles/a/b/c"])
async def test_unknown_route_is_404_not_found(http: httpx2.AsyncClient, path: str) -> None:
    assert_error_schema(await http.get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "/api/articles", "GET, HEAD, POST"),
        ("POST", "/api/user", "GET, HEAD, PUT"),
        ("POST", "/api/articles/some-slug", "GET, HEAD, PUT, DELETE"),
        ("PROPFIND", "/api/tags", "GET, HEAD"),
        ("BREW", "/api/tags", "GET, HEAD"),
    ],
)
async def test_method_a_route_does_not_take_is_405_with_every_allowed_method(
    http: httpx2.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await http.request(method, path)

    assert_error_schema(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow


async def test_taken_username_is_422_with_the_conflict_code(http: httpx2.AsyncClient) -> None:
    await register(http, "jake")

    response = await http.post(
        "/api/users",
        json={"user": {"username": "jake", "email": "other@example.com", "password": PASSWORD}},
    )

    assert_error_schema(response, 422, "conflict", "username")


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "bad_request"), (409, "conflict"), (412, "precondition_failed"), (503, "unavailable")],
)
async def test_http_errors_raised_anywhere_use_the_schema(status: int, code: str) -> None:
    settings = Settings(environment="test", secret_key=TEST_SECRET, database_url="memory://")
    infra = Infrastructure(hasher=FakePasswordHasher(), storage=MemoryStorage())
    app = create_app(settings, container=build_container(settings, infra))  # its own: adds a route

    # A test-only route: no route of ours raises these today, the mapping must still hold.
    @app.get("/test-only/raise")
    async def raise_it() -> None:
        raise HTTPException(status, "framework detail that is not shown")

    async with client_of(app) as http:
        response = await http.get("/test-only/raise")

    assert "framework detail" not in response.text
    assert_error_schema(response, status, code)


async def test_too_many_failed_logins_are_429_with_retry_after() -> None:
    async with client_of(make_app(login_max_failures_per_pair=2)) as http:
        jake = await register(http, "jake")
        wrong = {"user": {"email": jake.email, "password": "not-the-password"}}
        statuses = [(await http.post("/api/users/login", json=wrong)).status_code for _ in range(2)]
        response = await http.post("/api/users/login", json=wrong)

    assert statuses == [401, 401]
    assert_error_schema(response, 429, "rate_limited")
    assert int(response.headers["retry-after"]) > 0


async def test_unexpected_failure_is_500_without_any_detail_of_it(
    records: list[Record],
) -> None:
    async with client_of(make_app(hasher=ExplodingHasher())) as http:
        response = await http.post("/api/users", content=A_USER, headers=JSON)
        after = await http.get("/api/tags")

    errors = assert_error_schema(response, 500, "internal_error")
    assert errors == {"body": ["internal server error"]}
    for leak in ("SELECT", "hunter2", "RuntimeError", "Traceback", "core.py", "/srv/"):
        assert leak not in response.text
    assert after.status_code == 200


async def test_unexpected_failure_is_logged_with_its_trace_and_request_id(
    records: list[Record],
) -> None:
    async with client_of(make_app(hasher=ExplodingHasher())) as http:
        response = await http.post("/api/users", content=A_USER, headers=JSON)

    request_id = response.json()["requestId"]
    failures = [r for r in records if r["level"].name == "ERROR"]
    assert len(failures) == 1
    assert failures[0]["extra"]["request_id"] == request_id
    assert failures[0]["exception"] is not None
    assert failures[0]["exception"].type is RuntimeError
    access = [r for r in records if "status" in r["extra"]]
    assert [(r["extra"]["status"], r["extra"]["request_id"]) for r in access] == [(500, request_id)]


# --- request limits ---------------------------------------------------------------------------


async def test_declared_body_over_the_limit_is_413_before_any_of_it_is_read() -> None:
    app = make_app(max_body_bytes=4_096)
    chunks = [b"x" * 1_024] * 10

    status, headers, body, asked = await call_asgi(
        app,
        "POST",
        b"/api/users",
        headers=[(b"content-type", b"application/json"), (b"content-length", b"10240")],
        chunks=chunks,
    )

    assert (status, asked) == (413, 0)
    assert b'"code":"payload_too_large"' in body
    assert headers["x-request-id"]


async def test_streamed_body_is_cut_off_once_it_passes_the_limit() -> None:
    app = make_app(max_body_bytes=4_096)
    chunks = [b"x" * 1_024] * 100  # 100 KiB offered, no Content-Length (chunked upload)

    status, _, body, asked = await call_asgi(
        app, "POST", b"/api/users", headers=[(b"content-type", b"application/json")], chunks=chunks
    )

    assert status == 413
    assert b'"code":"payload_too_large"' in body
    assert asked == 5  # 5 KiB read: the first chunk past 4 KiB, and no further


@pytest.mark.parametrize("size", [1_048_576 + 1, 10_000_000])
async def test_body_over_the_default_limit_of_one_mebibyte_is_413(
    http: httpx2.AsyncClient, size: int
) -> None:
    response = await http.post("/api/users", content=b"x" * size, headers=JSON)

    errors = assert_error_schema(response, 413, "payload_too_large")
    assert errors == {"body": ["request body is larger than 1048576 bytes"]}
    await still_serving(http)


async def test_body_at_the_limit_is_accepted() -> None:
    padding = b" " * (4_096 - len(A_USER))
    async with client_of(make_app(max_body_bytes=4_096)) as http:
        response = await http.post("/api/users", content=A_USER + padding, headers=JSON)

    assert response.status_code == 201, response.text


async def test_headers_over_16_kib_are_431(http: httpx2.AsyncClient) -> None:
    response = await http.get("/api/tags", headers={"X-Padding": "a" * 16_384})

    assert_error_schema(response, 431, "headers_too_large")
    await still_serving(http)


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/api/../../etc/passwd",
        b"/api/articles/../../../etc/passwd",
        b"/api/articles/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        b"/api/articles/%00",
        b"/api/profiles/jake%00admin",
        b"/api/%00/articles",
    ],
)
async def test_dot_dot_and_nul_in_paths_are_404_in_the_schema(raw_path: bytes) -> None:
    app = make_app()

    status, headers, body, _ = await call_asgi(app, "GET", raw_path)

    assert status == 404, body
    assert b'"code":"not_found"' in body
    assert headers["content-type"] == "application/json"


# --- security headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/tags", None),
        ("GET", "/api/nope", None),
        ("POST", "/api/users", b"{"),
        ("POST", "/api/users", b"x" * 2_000_000),
        ("GET", "/health/live", None),
    ],
)
async def test_every_response_carries_the_security_headers(
    http: httpx2.AsyncClient, method: str, path: str, body: bytes | None
) -> None:
    response = await http.request(method, path, content=body, headers=JSON)

    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, (path, name)
    assert response.headers["content-security-policy"] == STRICT_CSP
    assert "strict-transport-security" not in response.headers


async def test_a_500_carries_the_security_headers_and_request_id() -> None:
    async with client_of(make_app(hasher=ExplodingHasher())) as http:
        response = await http.post("/api/users", content=A_USER, headers=JSON)

    assert response.status_code == 500
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["x-request-id"] == response.json()["requestId"]


async def test_html_pages_get_a_csp_that_lets_their_own_scripts_run(
    http: httpx2.AsyncClient,
) -> None:
    response = await http.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" not in csp
    assert response.headers["x-frame-options"] == "DENY"


async def test_hsts_is_sent_only_over_https() -> None:
    app = make_app()
    async with client_of(app, "https://test") as https, client_of(app) as http:
        secure, plain = await https.get("/api/tags"), await http.get("/api/tags")

    assert secure.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in plain.headers


# --- CORS -------------------------------------------------------------------------------------


def preflight(origin: str, method: str = "PUT") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_preflight_from_an_allowed_origin_gets_the_cors_headers() -> None:
    async with client_of(make_app(cors_origins="https://a.example")) as http:
        response = await http.options("/api/articles/x", headers=preflight("https://a.example"))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://a.example"
    assert "PUT" in response.headers["access-control-allow-methods"]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type"} <= {h.strip() for h in allowed_headers.split(",")}
    assert "access-control-allow-credentials" not in response.headers


async def test_preflight_from_another_origin_gets_no_allow_origin() -> None:
    async with client_of(make_app(cors_origins="https://a.example")) as http:
        response = await http.options("/api/articles", headers=preflight("https://evil.example"))
        simple = await http.get("/api/tags", headers={"Origin": "https://evil.example"})

    assert "access-control-allow-origin" not in response.headers
    assert_error_schema(response, 400, "cors_rejected")
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers


async def test_simple_request_from_an_allowed_origin_can_read_the_request_id() -> None:
    async with client_of(make_app(cors_origins="https://a.example")) as http:
        response = await http.get("/api/tags", headers={"Origin": "https://a.example"})

    assert response.headers["access-control-allow-origin"] == "https://a.example"
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


async def test_wildcard_origin_never_comes_with_credentials() -> None:
    async with client_of(make_app(cors_origins="*")) as http:
        response = await http.options("/api/articles", headers=preflight("https://any.example"))

    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    "origins", ["*,https://a.example", "https://a.example/", "a.example", "https://a.example/app"]
)
def test_settings_refuse_cors_origins_that_cannot_match(origins: str) -> None:
    with pytest.raises(ValidationError, match="cors_origins"):
        Settings(environment="test", cors_origins=origins)


# --- gzip -------------------------------------------------------------------------------------


async def test_large_responses_are_gzipped_and_small_ones_are_not(
    http: httpx2.AsyncClient,
) -> None:
    jake = await register(http, "jake")
    for i in range(10):
        await publish(http, jake, f"Article number {i}", description="d" * 200)
    accept = {"Accept-Encoding": "gzip"}

    large = await http.get("/api/articles", headers=accept)
    small = await http.get("/api/tags", headers=accept)

    assert large.headers["content-encoding"] == "gzip"
    assert int(large.headers["content-length"]) < len(large.content) / 4  # sent compressed
    assert large.json()["articlesCount"] == 10  # httpx2 decodes it transparently
    assert "content-encoding" not in small.headers


# --- request ids and the access line ----------------------------------------------------------


async def test_a_sane_client_request_id_is_echoed_and_used(http: httpx2.AsyncClient) -> None:
    response = await http.get("/api/nope", headers={"X-Request-ID": "edge-42.abc_DEF"})

    assert response.headers["x-request-id"] == "edge-42.abc_DEF"
    assert response.json()["requestId"] == "edge-42.abc_DEF"


@pytest.mark.parametrize(
    "offered",
    [b"a" * 129, b"has space", b"semi;colon", b"tab\there", "ünicode".encode(), b"a/b", b"{x}"],
)
async def test_an_insane_client_request_id_is_replaced(
    http: httpx2.AsyncClient, offered: bytes
) -> None:
    response = await http.get("/api/tags", headers=[(b"X-Request-ID", offered)])

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_each_request_gets_its_own_id(http: httpx2.AsyncClient) -> None:
    ids = {(await http.get("/api/tags")).headers["x-request-id"] for _ in range(5)}

    assert len(ids) == 5


async def test_every_log_line_of_a_request_carries_its_id(
    http: httpx2.AsyncClient, records: list[Record]
) -> None:
    await http.get("/api/articles/missing", headers={"X-Request-ID": "req-1"})
    await http.post("/api/users", content=b"{", headers={**JSON, "X-Request-ID": "req-2"})

    by_request = [r["extra"].get("request_id") for r in records]
    assert by_request.count("req-1") >= 2  # the 404's own line and the access line
    assert by_request.count("req-2") >= 2
    assert set(by_request) == {"req-1", "req-2"}


async def test_one_access_line_per_request_with_the_route_template(
    http: httpx2.AsyncClient, records: list[Record]
) -> None:
    await http.get("/api/articles/how-to-train-your-dragon")
    await http.get("/api/v1/profiles/jake")
    await http.get("/api/definitely/not/a/route")
    await http.delete("/api/tags")

    access = [r["extra"] for r in records if "route" in r["extra"]]
    assert [(a["method"], a["route"], a["status"]) for a in access] == [
        ("GET", "/api/articles/{slug}", 404),
        ("GET", "/api/v1/profiles/{username}", 404),
        ("GET", "unmatched", 404),
        ("DELETE", "/api/tags", 405),
    ]
    assert all(isinstance(a["duration_ms"], float) and a["duration_ms"] >= 0 for a in access)
    assert all(a["client"] == "127.0.0.1" for a in access)
    assert not any("how-to-train" in r["message"] for r in records)
