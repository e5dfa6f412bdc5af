from __future__ import annotations

import httpx2


async def test_register_then_read_tags(client: httpx2.AsyncClient) -> None:
    r = await client.post(
        "/api/users",
        json={"user": {"username": "jake", "email": "jake@jake.jake", "password": "jakejake"}},
    )
    assert r.status_code == 201, r.text
    token = r.json()["user"]["token"]
    r = await client.post(
        "/api/articles",
        json={"article": {"title": "T", "description": "d", "body": "b", "tagList": ["z", "a"]}},
        headers={"Authorization": f"Token {token}"},
    )
    assert r.status_code == 201, r.text
    assert (await client.get("/api/tags")).json() == {"tags": ["a", "z"]}
