"""Tags: /tags."""

from __future__ import annotations

import httpx2

from tests.api.helpers import MEMORY_ONLY, Account, publish


@MEMORY_ONLY
async def test_tags_is_an_empty_list_without_articles(client: httpx2.AsyncClient) -> None:
    response = await client.get("/api/tags")

    assert response.status_code == 200, response.text
    assert response.json() == {"tags": []}


async def test_tags_lists_each_tag_in_use_once_sorted_by_name(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake, "One", tags=["training", "dragons"])
    await publish(client, jane, "Two", tags=["dragons", "Zebra", "apple"])

    response = await client.get("/api/tags")  # no token: reads never need one

    assert response.status_code == 200, response.text
    assert response.json() == {"tags": ["Zebra", "apple", "dragons", "training"]}


async def test_tags_drops_a_tag_when_its_last_article_is_deleted(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    await publish(client, jake, "One", tags=["shared", "only-one"])
    await publish(client, jake, "Two", tags=["shared"])

    assert (await client.delete("/api/articles/one", headers=jake.auth)).status_code == 204

    assert (await client.get("/api/tags")).json() == {"tags": ["shared"]}
