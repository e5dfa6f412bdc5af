"""No response ever carries a password, a password hash, a stored token digest or a key's
secret hash: a full flow is recorded and every body and header is searched."""

from __future__ import annotations

import httpx2
import punq

from core.auth.model import digest
from tests.apps import TEST_SECRET
from tests.infra import Storage
from tests.security.conftest import PASSWORD, make_admin, password_grant, refresh, register


async def test_no_response_leaks_a_secret(
    client: httpx2.AsyncClient, container: punq.Container, storage: Storage
) -> None:
    seen: list[httpx2.Response] = []

    async def record(response: httpx2.Response) -> None:
        await response.aread()
        seen.append(response)

    client.event_hooks["response"].append(record)
    root = await make_admin(client, container, "root")
    jake = await register(client, "jake")
    grant = (await password_grant(client, jake.email)).json()
    refreshed = (await refresh(client, grant["refresh_token"])).json()
    created = await client.post(
        "/api/user/api-keys", json={"name": "k", "scopes": ["feed:read"]}, headers=jake.auth
    )
    key = created.json()["apiKey"]["key"]
    await client.get("/api/user/api-keys", headers=jake.auth)
    await client.get("/api/articles/feed", headers={"X-API-Key": key})
    await client.put(
        "/api/user", json={"user": {"password": "another password"}}, headers=jake.auth
    )
    await client.get("/api/admin/users", headers=root.auth)
    await client.get("/api/profiles/jake")
    await client.post(
        "/api/users/login", json={"user": {"email": jake.email, "password": "nope-nope"}}
    )

    if storage.memory is not None:
        hashes = [u.password_hash for u in storage.memory.state.users.values()]
    else:
        from sqlalchemy import text

        assert storage.engine is not None
        async with storage.engine.connect() as conn:
            rows = await conn.execute(text("SELECT password_hash FROM users"))
            hashes = list(rows.scalars())
    forbidden = [
        PASSWORD,
        "another password",
        TEST_SECRET,
        *hashes,
        digest(grant["refresh_token"]),
        digest(refreshed["refresh_token"]),
        digest(key),
    ]
    assert len(seen) >= 10
    for response in seen:
        text_seen = response.text + str(dict(response.headers))
        for secret in forbidden:
            assert secret not in text_seen, (response.request.url, secret[:12])
        assert "password_hash" not in text_seen
        assert "$argon2" not in text_seen
