"""Scoped API keys: shown once, stored hashed, scope-checked per route, revocable at once."""

from __future__ import annotations

import httpx2
import punq
import pytest

from core.auth.model import digest
from tests.infra import Storage
from tests.security.conftest import (
    assert_error,
    make_admin,
    new_api_key,
    publish,
    register,
    set_access,
)

ARTICLE = {"article": {"title": "By a machine", "description": "d", "body": "b"}}


async def test_a_new_key_is_shown_once_and_listed_without_its_secret(
    client: httpx2.AsyncClient,
) -> None:
    jake = await register(client, "jake")
    created = await client.post(
        "/api/user/api-keys",
        json={"name": "ci", "scopes": ["feed:read", "articles:write"]},
        headers=jake.auth,
    )
    assert created.status_code == 201
    key = created.json()["apiKey"]
    assert key["key"].startswith(f"cdt_{key['prefix']}_")
    listed = (await client.get("/api/user/api-keys", headers=jake.auth)).json()["apiKeys"]
    assert [k["prefix"] for k in listed] == [key["prefix"]]
    assert listed[0]["key"] is None
    assert listed[0]["scopes"] == ["articles:write", "feed:read"]
    assert key["key"] not in str(listed)


async def test_a_key_with_the_scope_may_use_the_route(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    key = await new_api_key(client, jake, "articles:write")
    response = await client.post("/api/articles", json=ARTICLE, headers={"X-API-Key": key})
    assert response.status_code == 201, response.text
    assert response.json()["article"]["author"]["username"] == "jake"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/articles", ARTICLE),
        ("POST", "/api/profiles/jake/follow", None),
        ("PUT", "/api/user", {"user": {"bio": "hacked"}}),
        ("GET", "/api/articles/feed", None),
    ],
)
async def test_a_key_without_the_scope_gets_403(
    client: httpx2.AsyncClient, method: str, path: str, body: object
) -> None:
    jake = await register(client, "jake")
    await register(client, "other")
    key = await new_api_key(client, jake, "comments:write")
    path = path.replace("/jake/", "/other/")
    response = await client.request(method, path, json=body, headers={"X-API-Key": key})
    assert_error(response, 403)
    assert "scope" in str(response.json()["errors"])


async def test_a_key_needs_no_scope_to_read(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    key = await new_api_key(client, jake, "comments:write")
    response = await client.get("/api/user", headers={"X-API-Key": key})
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "jake"


async def test_a_revoked_key_stops_working_at_once(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    key = await new_api_key(client, jake, "feed:read")
    key_id = (await client.get("/api/user/api-keys", headers=jake.auth)).json()["apiKeys"][0]["id"]
    assert (await client.get("/api/articles/feed", headers={"X-API-Key": key})).status_code == 200
    assert (
        await client.delete(f"/api/user/api-keys/{key_id}", headers=jake.auth)
    ).status_code == 204
    assert_error(await client.get("/api/articles/feed", headers={"X-API-Key": key}), 401)
    assert (await client.get("/api/user/api-keys", headers=jake.auth)).json()["apiKeys"] == []


async def test_nobody_else_can_revoke_my_key(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    mallory = await register(client, "mallory")
    await new_api_key(client, jake, "feed:read")
    key_id = (await client.get("/api/user/api-keys", headers=jake.auth)).json()["apiKeys"][0]["id"]
    assert_error(await client.delete(f"/api/user/api-keys/{key_id}", headers=mallory.auth), 404)


@pytest.mark.parametrize("key", ["cdt_deadbeef_" + "x" * 43, "nonsense", "cdt__", "k" * 10_000])
async def test_unknown_or_malformed_keys_get_401(client: httpx2.AsyncClient, key: str) -> None:
    assert_error(await client.get("/api/articles/feed", headers={"X-API-Key": key}), 401)


async def test_a_key_cannot_mint_keys_or_reach_admin_routes(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    admin = await make_admin(client, container, "root")
    key = await new_api_key(client, admin, *["articles:write", "feed:read"])
    headers = {"X-API-Key": key}
    created = await client.post(
        "/api/user/api-keys", json={"name": "x", "scopes": ["feed:read"]}, headers=headers
    )
    assert_error(created, 403)
    assert_error(await client.get("/api/admin/users", headers=headers), 403)


async def test_keys_of_a_deactivated_user_stop_working(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    admin = await make_admin(client, container, "root")
    jake = await register(client, "jake")
    key = await new_api_key(client, jake, "feed:read")
    await set_access(client, admin, "jake", active=False)
    assert_error(await client.get("/api/articles/feed", headers={"X-API-Key": key}), 401)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": ["root:all"]},
        {"name": "x", "scopes": []},
        {"name": "  ", "scopes": ["feed:read"]},
        {"name": "x" * 101, "scopes": ["feed:read"]},
        {"scopes": ["feed:read"]},
    ],
)
async def test_bad_key_requests_get_422(client: httpx2.AsyncClient, body: object) -> None:
    jake = await register(client, "jake")
    assert_error(await client.post("/api/user/api-keys", json=body, headers=jake.auth), 422)


async def test_keys_are_stored_hashed(client: httpx2.AsyncClient, storage: Storage) -> None:
    jake = await register(client, "jake")
    key = await new_api_key(client, jake, "feed:read")
    if storage.memory is not None:
        stored = [k.secret_hash for k in storage.memory.state.api_keys.values()]
    else:
        from sqlalchemy import text

        assert storage.engine is not None
        async with storage.engine.connect() as conn:
            stored = list((await conn.execute(text("SELECT secret_hash FROM api_keys"))).scalars())
    assert stored == [digest(key)]


async def test_a_key_authors_as_its_owner(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    key = await new_api_key(client, jake, "comments:write")
    slug = await publish(client, jake)
    response = await client.post(
        f"/api/articles/{slug}/comments",
        json={"comment": {"body": "from CI"}},
        headers={"X-API-Key": key},
    )
    assert response.status_code == 200
    assert response.json()["comment"]["author"]["username"] == "jake"
