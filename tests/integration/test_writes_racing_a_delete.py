"""Writes racing a delete answer 404, never 500 (issue 11, point 1).

A favorite, a comment or an edit that read the article before a concurrent delete committed
writes a row that refers to it after it is gone: the foreign key rejects it, and the adapter
must turn that into ArticleNotFound (404), not let it through as a 500. Fired through the
HTTP API on the real databases, several rounds so the race is actually hit.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx2

from tests.api.helpers import Account, publish, register

ROUNDS = 8
WRITERS = 4  # of each kind, per round


async def _round(
    client: httpx2.AsyncClient, author: Account, fans: list[Account], n: int
) -> list[tuple[str, int, str]]:
    slug = (await publish(client, author, f"Doomed {n}", tags=["a", "b"]))["slug"]
    url = f"/api/articles/{slug}"

    async def edit(i: int) -> tuple[str, int, str]:
        article = {"body": f"edit {i}", "tagList": [f"t{i}", "u{i}"]}
        response = await client.put(url, json={"article": article}, headers=author.auth)
        return "edit", response.status_code, response.text

    async def fav(fan: Account) -> tuple[str, int, str]:
        response = await client.post(f"{url}/favorite", headers=fan.auth)
        return "favorite", response.status_code, response.text

    async def comment(fan: Account) -> tuple[str, int, str]:
        body = {"comment": {"body": "first!"}}
        response = await client.post(f"{url}/comments", json=body, headers=fan.auth)
        return "comment", response.status_code, response.text

    async def delete() -> tuple[str, int, str]:
        response = await client.delete(url, headers=author.auth)
        return "delete", response.status_code, response.text

    writes = [edit(i) for i in range(WRITERS)]
    writes += [fav(fan) for fan in fans] + [comment(fan) for fan in fans]
    # The delete goes in the middle: some writes start before it, some after.
    half = len(writes) // 2
    return list(await asyncio.gather(*writes[:half], delete(), *writes[half:]))


async def test_edits_favorites_and_comments_racing_a_delete_answer_2xx_or_404(
    sql_client: httpx2.AsyncClient,
) -> None:
    author = await register(sql_client, "author")
    fans = [await register(sql_client, f"fan{i}") for i in range(WRITERS)]

    answers: list[tuple[str, int, str]] = []
    for n in range(ROUNDS):
        answers += await _round(sql_client, author, fans, n)

    statuses = Counter((kind, status) for kind, status, _ in answers)
    unexpected = [a for a in answers if not (200 <= a[1] < 300 or a[1] == 404)]
    assert not unexpected, (statuses, unexpected[:3])
    assert statuses[("delete", 204)] == ROUNDS, statuses
