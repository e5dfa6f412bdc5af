"""Conduit calls the API tests share (register, publish, comment...) and the error-shape check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

# The RealWorld timestamp: UTC, always with milliseconds.
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
PREFIXES = ("/api", "/api/v1")
PASSWORD = "correct horse battery"

# Request validation and error shapes do not depend on storage: run them on the fake only.
MEMORY_ONLY = pytest.mark.parametrize("storage", ["memory"], indirect=True)

PROFILE_KEYS = {"username", "bio", "image", "following"}
LIST_ITEM_KEYS = {
    "slug",
    "title",
    "description",
    "tagList",
    "createdAt",
    "updatedAt",
    "favorited",
    "favoritesCount",
    "author",
}
ARTICLE_KEYS = LIST_ITEM_KEYS | {"body"}
COMMENT_KEYS = {"id", "createdAt", "updatedAt", "body", "author"}


@dataclass(frozen=True)
class Account:
    username: str
    email: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


async def register(
    client: httpx2.AsyncClient,
    username: str = "jake",
    *,
    email: str | None = None,
    password: str = PASSWORD,
    prefix: str = "/api",
) -> Account:
    email = email or f"{username}@example.com"
    response = await client.post(
        f"{prefix}/users",
        json={"user": {"username": username, "email": email, "password": password}},
    )
    assert response.status_code == 201, response.text
    return Account(username, email, password, response.json()["user"]["token"])


async def publish(
    client: httpx2.AsyncClient,
    author: Account,
    title: str = "How to train your dragon",
    *,
    description: str = "Ever wonder how?",
    body: str = "You have to believe",
    tags: list[str] | None = None,
) -> dict[str, Any]:
    article: dict[str, Any] = {"title": title, "description": description, "body": body}
    if tags is not None:
        article["tagList"] = tags
    response = await client.post("/api/articles", json={"article": article}, headers=author.auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["article"]
    return created


async def add_comment(
    client: httpx2.AsyncClient, author: Account, slug: str, body: str = "Thank you so much!"
) -> dict[str, Any]:
    response = await client.post(
        f"/api/articles/{slug}/comments", json={"comment": {"body": body}}, headers=author.auth
    )
    assert response.status_code == 200, response.text
    comment: dict[str, Any] = response.json()["comment"]
    return comment


async def follow(client: httpx2.AsyncClient, follower: Account, username: str) -> None:
    response = await client.post(f"/api/profiles/{username}/follow", headers=follower.auth)
    assert response.status_code == 200, response.text


async def favorite(client: httpx2.AsyncClient, user: Account, slug: str) -> None:
    response = await client.post(f"/api/articles/{slug}/favorite", headers=user.auth)
    assert response.status_code == 200, response.text


async def list_articles(
    client: httpx2.AsyncClient, viewer: Account | None = None, /, **params: str | int
) -> dict[str, Any]:
    headers = viewer.auth if viewer else {}
    response = await client.get("/api/articles", params=params, headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def articles_count(client: httpx2.AsyncClient, /, **params: str | int) -> int:
    count: int = (await list_articles(client, **params))["articlesCount"]
    return count


async def comment_bodies(client: httpx2.AsyncClient, slug: str) -> list[str]:
    response = await client.get(f"/api/articles/{slug}/comments")
    assert response.status_code == 200, response.text
    return [c["body"] for c in response.json()["comments"]]


def assert_error(response: httpx2.Response, status: int, *fields: str) -> dict[str, list[str]]:
    """The response is `status` with `{"errors": {<exactly fields>: [non-empty messages]}}`
    (other top-level keys, such as a request id, may ride along)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict), body
    errors = body["errors"]
    assert isinstance(errors, dict), body
    assert set(errors) == set(fields), errors
    for messages in errors.values():
        assert isinstance(messages, list), errors
        assert messages, errors
        assert all(isinstance(m, str) and m.strip() for m in messages), errors
    checked: dict[str, list[str]] = errors
    return checked
