"""Error answers: authentication, unknown routes, unparsable bodies, hostile input."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx2
import pytest

from adapters.security.tokens import JoseTokenIssuer
from core.shared.ids import UserId
from entrypoints.settings import Settings
from tests.api.helpers import (
    MEMORY_ONLY,
    Account,
    add_comment,
    articles_count,
    assert_error,
    comment_bodies,
    list_articles,
    publish,
    register,
)
from tests.fakes.clock import FakeClock

SLUG = "how-to-train-your-dragon"

# Every operation that needs a caller, with a valid body where it takes one.
PROTECTED: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/user", None),
    ("PUT", "/api/user", {"user": {"bio": "x"}}),
    ("POST", "/api/profiles/jake/follow", None),
    ("DELETE", "/api/profiles/jake/follow", None),
    ("GET", "/api/articles/feed", None),
    ("POST", "/api/articles", {"article": {"title": "t", "description": "d", "body": "b"}}),
    ("PUT", f"/api/articles/{SLUG}", {"article": {"body": "changed"}}),
    ("DELETE", f"/api/articles/{SLUG}", None),
    ("POST", f"/api/articles/{SLUG}/favorite", None),
    ("DELETE", f"/api/articles/{SLUG}/favorite", None),
    ("POST", f"/api/articles/{SLUG}/comments", {"comment": {"body": "hi"}}),
    ("DELETE", f"/api/articles/{SLUG}/comments/1", None),
]

# Reads a signed-out client makes; none may ask for credentials.
PUBLIC_READS = [
    "/api/articles",
    "/api/articles?tag=dragons&author=jake&favorited=jane&limit=5&offset=0",
    f"/api/articles/{SLUG}",
    f"/api/articles/{SLUG}/comments",
    "/api/profiles/jake",
    "/api/tags",
]

# Bodies that parse as JSON (or are empty) but are not an object, sent as application/json.
NOT_AN_OBJECT = [b"[1, 2]", b'"text"', b"42", b"null", b"true", b""]
BODY_ENDPOINTS = [
    ("POST", "/api/users"),
    ("POST", "/api/users/login"),
    ("PUT", "/api/user"),
    ("POST", "/api/articles"),
    ("PUT", f"/api/articles/{SLUG}"),
    ("POST", f"/api/articles/{SLUG}/comments"),
]

# Hostile strings: SQL, path traversal, markup, odd but NUL-free characters.
HOSTILE = [
    "' OR 1=1 --",
    '"; DROP TABLE users; --',
    "Robert'); DROP TABLE articles;--",
    "%' OR '%'='",
    "..%2F..%2Fetc%2Fpasswd",
    "../../etc/passwd",
    "..\\..\\windows",
    "<script>alert(1)</script>",
    "{{7*7}} ${jndi:ldap://x}",
    "ünïcødé ✓ 日本語 🐉",
    "\u202eevil\u0301 \u200b zero-width",
    "tab\there\nnewline\r\x01\x7f",
    "\\x00 not a real NUL",
]


JSON = {"Content-Type": "application/json"}


async def _assert_only(client: httpx2.AsyncClient, article: dict[str, Any]) -> None:
    """Storage holds just `article`, uncommented: a refused request wrote nothing."""
    listed = {k: v for k, v in article.items() if k != "body"}
    assert await list_articles(client) == {"articles": [listed], "articlesCount": 1}
    assert await comment_bodies(client, article["slug"]) == []


def _user_id_of(token: str) -> UserId:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return UserId(uuid.UUID(claims["sub"]))


def _issuer(secret: str, at: datetime) -> JoseTokenIssuer:
    return JoseTokenIssuer(secret, timedelta(days=1), FakeClock(at))


async def _me(client: httpx2.AsyncClient, authorization: str) -> httpx2.Response:
    return await client.get("/api/user", headers={"Authorization": authorization})


# --- authentication (storage-independent) -----------------------------------------------


@MEMORY_ONLY
class TestAuthentication:
    @pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
    async def test_protected_operation_without_a_token_is_401_with_www_authenticate(
        self, client: httpx2.AsyncClient, method: str, path: str, body: dict[str, Any] | None
    ) -> None:
        response = await client.request(method, path, json=body)

        assert_error(response, 401, "body")
        assert response.headers["WWW-Authenticate"] == "Token"

    @pytest.mark.parametrize(
        "authorization",
        [
            "Token garbage",
            "Token a.b.c",
            "Token eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo",
            "Bearer " + "x" * 5000,
            "Token",
            "Token    ",
            "Basic amFrZTpqYWtl",
            "JWT abc.def.ghi",
        ],
    )
    async def test_malformed_or_garbage_credentials_are_401(
        self, client: httpx2.AsyncClient, authorization: str
    ) -> None:
        response = await _me(client, authorization)

        assert_error(response, 401, "body")
        assert response.headers["WWW-Authenticate"] == "Token"

    async def test_token_without_a_scheme_is_401(
        self, client: httpx2.AsyncClient, jake: Account
    ) -> None:
        assert_error(await _me(client, jake.token), 401, "body")

    async def test_tampered_token_is_401(self, client: httpx2.AsyncClient, jake: Account) -> None:
        header, payload, signature = jake.token.split(".")
        flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]

        assert_error(await _me(client, f"Token {header}.{payload}.{flipped}"), 401, "body")

    async def test_unsigned_alg_none_token_is_401(
        self, client: httpx2.AsyncClient, jake: Account
    ) -> None:
        payload = jake.token.split(".")[1]
        header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()

        assert_error(await _me(client, f"Token {header}.{payload}."), 401, "body")

    async def test_token_signed_with_another_secret_is_401(
        self, client: httpx2.AsyncClient, jake: Account, clock: FakeClock
    ) -> None:
        forged = _issuer("another-secret-that-is-at-least-32-bytes-long", clock.now())
        token = forged.issue(_user_id_of(jake.token))

        assert_error(await _me(client, f"Token {token}"), 401, "body")

    async def test_expired_token_is_401(
        self, client: httpx2.AsyncClient, jake: Account, settings: Settings, clock: FakeClock
    ) -> None:
        user_id = _user_id_of(jake.token)
        fresh = _issuer(settings.jwt_secret(), clock.now()).issue(user_id)
        expired = _issuer(settings.jwt_secret(), clock.now() - timedelta(days=2)).issue(user_id)

        assert (await _me(client, f"Token {fresh}")).status_code == 200  # same key, in date
        response = await _me(client, f"Token {expired}")

        assert_error(response, 401, "body")
        assert response.headers["WWW-Authenticate"] == "Token"

    async def test_token_not_yet_valid_is_401(
        self, client: httpx2.AsyncClient, jake: Account, settings: Settings, clock: FakeClock
    ) -> None:
        early = _issuer(settings.jwt_secret(), clock.now() + timedelta(hours=1))

        token = early.issue(_user_id_of(jake.token))

        assert_error(await _me(client, f"Token {token}"), 401, "body")

    @pytest.mark.parametrize("path", PUBLIC_READS)
    async def test_reads_without_a_token_never_answer_401(
        self, client: httpx2.AsyncClient, jake: Account, path: str
    ) -> None:
        await publish(client, jake, tags=["dragons"])

        response = await client.get(path)

        assert response.status_code == 200, response.text

    # A token that is sent must be valid (a stale one signs the client out); /tags takes none.
    @pytest.mark.parametrize("path", [p for p in PUBLIC_READS if p != "/api/tags"])
    async def test_reads_with_a_bad_token_are_401(
        self, client: httpx2.AsyncClient, jake: Account, path: str
    ) -> None:
        await publish(client, jake, tags=["dragons"])

        response = await client.get(path, headers={"Authorization": "Token garbage"})

        assert_error(response, 401, "body")


# --- routes and bodies (storage-independent) -------------------------------------------------


@MEMORY_ONLY
class TestRequestErrors:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/api/nope"),
            ("GET", "/api/v1/nope"),
            ("GET", "/api/v2/articles"),
            ("GET", "/nope"),
            ("GET", "/index.html"),
            ("POST", "/api/articles/x/unknown"),
            ("GET", "/api/articles/x/comments/1/extra"),
        ],
    )
    async def test_unknown_route_is_404_in_the_error_shape(
        self, client: httpx2.AsyncClient, method: str, path: str
    ) -> None:
        response = await client.request(method, path)

        assert_error(response, 404, "body")

    @pytest.mark.parametrize(
        ("method", "path"),
        [("PATCH", "/api/articles"), ("DELETE", "/api/tags"), ("PUT", "/api/users")],
    )
    async def test_wrong_method_is_405_in_the_error_shape(
        self, client: httpx2.AsyncClient, method: str, path: str
    ) -> None:
        response = await client.request(method, path)

        assert_error(response, 405, "body")

    @pytest.mark.parametrize("content", NOT_AN_OBJECT)
    @pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
    async def test_body_that_is_not_a_json_object_is_422_and_writes_nothing(
        self,
        client: httpx2.AsyncClient,
        jake: Account,
        method: str,
        path: str,
        content: bytes,
    ) -> None:
        before = await publish(client, jake)

        response = await client.request(
            method, path, content=content, headers={**jake.auth, **JSON}
        )

        assert_error(response, 422, "body")
        await _assert_only(client, before)

    # Syntax errors are 400 `malformed_json` by design (entrypoints/http/errors.py), while
    # JSON that parses but breaks the schema is RealWorld's 422.
    @pytest.mark.parametrize("content", [b'{"article": ', b"{'a': 1}", b'{"a": 1,}', b"\xff\xfe"])
    @pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
    async def test_malformed_json_is_400_and_writes_nothing(
        self,
        client: httpx2.AsyncClient,
        jake: Account,
        method: str,
        path: str,
        content: bytes,
    ) -> None:
        before = await publish(client, jake)

        response = await client.request(
            method, path, content=content, headers={**jake.auth, **JSON}
        )

        assert assert_error(response, 400, "body")["body"] == ["is not valid JSON"]
        await _assert_only(client, before)

    @pytest.mark.parametrize(
        "content_type", [None, "text/plain", "application/x-www-form-urlencoded"]
    )
    async def test_body_not_sent_as_json_is_refused_and_writes_nothing(
        self, client: httpx2.AsyncClient, jake: Account, content_type: str | None
    ) -> None:
        headers = dict(jake.auth)
        if content_type:
            headers["Content-Type"] = content_type
        article = b'{"article": {"title": "t", "description": "d", "body": "b"}}'

        response = await client.post("/api/articles", content=article, headers=headers)

        assert_error(response, 415, "body")
        assert await articles_count(client) == 0


# --- hostile input, on every storage -----------------------------------------------------------


async def test_hostile_strings_in_article_and_comment_fields_are_stored_verbatim(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    for i, text in enumerate(HOSTILE):
        title = f"{text} {i}"
        article = await publish(
            client, jake, title, description=text, body=text, tags=[text[:50].strip()]
        )
        assert (article["title"], article["description"], article["body"]) == (title, text, text)
        assert article["tagList"] == [text[:50].strip()]
        await add_comment(client, jane, article["slug"], text)

        fetched = (await client.get(f"/api/articles/{quote(article['slug'])}")).json()["article"]
        assert fetched == article
        assert await comment_bodies(client, article["slug"]) == [text]
        by_tag = await list_articles(client, tag=text[:50].strip())
        assert [a["slug"] for a in by_tag["articles"]] == [article["slug"]]

    assert await articles_count(client) == len(HOSTILE)
    assert sorted((await client.get("/api/tags")).json()["tags"]) == sorted(
        {t[:50].strip() for t in HOSTILE}
    )
    assert (await client.get("/api/profiles/jake")).status_code == 200


async def test_hostile_strings_as_slugs_usernames_and_filters_are_4xx_or_empty_never_500(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake, tags=["dragons"])
    await add_comment(client, jane, SLUG)
    raw_traversals = [
        "..%2F..%2Fetc%2Fpasswd",
        "%2E%2E%2F%2E%2E%2F",
        "..%5C..%5C",
        "%252E%252E%252F",
    ]

    for text in HOSTILE:
        segment = quote(text, safe="")
        for path in (f"/api/articles/{segment}", f"/api/articles/{segment}/comments"):
            assert 400 <= (await client.get(path)).status_code < 500, path
        for method in ("PUT", "DELETE"):
            response = await client.request(
                method,
                f"/api/articles/{segment}",
                json={"article": {"body": "x"}},
                headers=jake.auth,
            )
            assert 400 <= response.status_code < 500, (method, text, response.text)
        profile = await client.get(f"/api/profiles/{segment}")
        follow = await client.post(f"/api/profiles/{segment}/follow", headers=jake.auth)
        assert 400 <= profile.status_code < 500, (text, profile.text)
        assert 400 <= follow.status_code < 500, (text, follow.text)
        for name in ("tag", "author", "favorited"):
            assert await list_articles(client, **{name: text}) == {
                "articles": [],
                "articlesCount": 0,
            }, (name, text)
    for raw in raw_traversals:
        for path in (
            f"/api/articles/{raw}",
            f"/api/profiles/{raw}",
            f"/api/articles/{raw}/comments",
        ):
            assert 400 <= (await client.get(path)).status_code < 500, path

    # Nothing else was touched.
    assert await articles_count(client) == 1
    assert await comment_bodies(client, SLUG) == ["Thank you so much!"]
    assert (await client.get("/api/tags")).json() == {"tags": ["dragons"]}
    login = {"user": {"email": jake.email, "password": jake.password}}
    assert (await client.post("/api/users/login", json=login)).status_code == 200


async def test_hostile_usernames_are_refused_and_odd_valid_ones_kept_verbatim(
    client: httpx2.AsyncClient,
) -> None:
    for i, text in enumerate(HOSTILE):
        response = await client.post(
            "/api/users",
            json={"user": {"username": text, "email": f"h{i}@example.com", "password": "p" * 8}},
        )
        assert_error(response, 422, "username")

    # Letters of one script each (Latin; Japanese's Han and kana), "_", "-", "." and digits.
    unicode_name = await register(client, "jöhn_ßmith-2.x", email="o'reilly+tag@example.com")
    profile = await client.get(f"/api/profiles/{quote(unicode_name.username)}")
    assert profile.json()["profile"]["username"] == "jöhn_ßmith-2.x"
    login = {"user": {"email": "O'Reilly+tag@example.com", "password": unicode_name.password}}
    assert (await client.post("/api/users/login", json=login)).status_code == 200
    assert (await client.get("/api/profiles/jöhn_ßmith-2.x")).status_code == 200
    japanese = await register(client, "日本語_テスト.1", email="jp@example.com")
    profile = await client.get(f"/api/profiles/{quote(japanese.username)}")
    assert profile.json()["profile"]["username"] == "日本語_テスト.1"


# --- NUL: no storage can be trusted with it --------------------------------------------------


@pytest.mark.parametrize("field", ["title", "description", "body"])
async def test_nul_character_in_article_fields_is_refused_with_422(
    client: httpx2.AsyncClient, jake: Account, field: str
) -> None:
    article = {"title": "t", "description": "d", "body": "b", field: "nul\x00inside"}

    response = await client.post("/api/articles", json={"article": article}, headers=jake.auth)

    assert_error(response, 422, field)
    assert await articles_count(client) == 0


async def test_nul_character_in_a_comment_or_profile_is_refused_with_422(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    await publish(client, jake)

    comment = await client.post(
        f"/api/articles/{SLUG}/comments", json={"comment": {"body": "a\x00b"}}, headers=jake.auth
    )
    bio = await client.put("/api/user", json={"user": {"bio": "a\x00b"}}, headers=jake.auth)

    assert_error(comment, 422, "body")
    assert_error(bio, 422, "bio")
    assert await comment_bodies(client, SLUG) == []
    assert (await client.get("/api/profiles/jake")).json()["profile"]["bio"] == ""


@pytest.mark.parametrize(
    "storage",
    [
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ],
    indirect=True,
)
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/articles/a%00b", 404),
        ("/api/articles/a%00b/comments", 404),
        ("/api/profiles/a%00b", 404),
        ("/api/articles?tag=a%00b", 200),
        ("/api/articles?author=a%00b", 200),
    ],
)
async def test_nul_character_in_a_lookup_finds_nothing_never_500(
    client: httpx2.AsyncClient, jake: Account, path: str, status: int
) -> None:
    response = await client.get(path, headers=jake.auth)

    assert response.status_code == status, response.text
