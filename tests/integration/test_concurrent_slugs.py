"""One title at once gets a slug each, never 422 (issue 11, point 2).

Concurrent creates (or renames) with one title all see the plain slug free, and all but one
lose the unique constraint on commit. The caller did nothing wrong: the use case retries with
the id-suffixed slug. Fired through the HTTP API on the real databases.
"""

from __future__ import annotations

import asyncio

import httpx2

from tests.api.helpers import publish, register

WRITERS = 20
TITLE = "Same title at once"


async def test_concurrent_creates_with_one_title_all_get_distinct_slugs(
    sql_client: httpx2.AsyncClient,
) -> None:
    author = await register(sql_client, "author")
    article = {"title": TITLE, "description": "d", "body": "b"}

    responses = await asyncio.gather(
        *(
            sql_client.post("/api/articles", json={"article": article}, headers=author.auth)
            for _ in range(WRITERS)
        )
    )

    assert [r.status_code for r in responses] == [201] * WRITERS, [
        r.text for r in responses if r.status_code != 201
    ][:3]
    slugs = {r.json()["article"]["slug"] for r in responses}
    assert len(slugs) == WRITERS
    assert "same-title-at-once" in slugs
    listed = (await sql_client.get("/api/articles", params={"limit": 100})).json()
    assert listed["articlesCount"] == WRITERS


async def test_concurrent_renames_to_one_title_all_get_distinct_slugs(
    sql_client: httpx2.AsyncClient,
) -> None:
    author = await register(sql_client, "author")
    old = [(await publish(sql_client, author, f"Draft {i}"))["slug"] for i in range(WRITERS)]
    rename = {"article": {"title": TITLE}}

    responses = await asyncio.gather(
        *(sql_client.put(f"/api/articles/{slug}", json=rename, headers=author.auth) for slug in old)
    )

    assert [r.status_code for r in responses] == [200] * WRITERS, [
        r.text for r in responses if r.status_code != 200
    ][:3]
    slugs = {r.json()["article"]["slug"] for r in responses}
    assert len(slugs) == WRITERS
    assert "same-title-at-once" in slugs
    for slug in slugs:
        response = await sql_client.get(f"/api/articles/{slug}")
        assert response.json()["article"]["title"] == TITLE
