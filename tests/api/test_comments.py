"""Comments: /articles/{slug}/comments and /articles/{slug}/comments/{id}."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from core.articles.model import COMMENT_MAX
from tests.api.helpers import (
    COMMENT_KEYS,
    MEMORY_ONLY,
    PROFILE_KEYS,
    TIMESTAMP,
    Account,
    add_comment,
    assert_error,
    comment_bodies,
    follow,
    publish,
    register,
)

SLUG = "how-to-train-your-dragon"


async def _comments(
    client: httpx2.AsyncClient, slug: str = SLUG, viewer: Account | None = None
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/articles/{slug}/comments", headers=viewer.auth if viewer else {}
    )
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["comments"]
    comments: list[dict[str, Any]] = response.json()["comments"]
    return comments


async def test_add_comment_answers_200_with_the_comment(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake)

    response = await client.post(
        f"/api/articles/{SLUG}/comments",
        json={"comment": {"body": "Thank you so much!"}},
        headers=jane.auth,
    )

    assert response.status_code == 200, response.text  # the spec says 200, not 201
    comment = response.json()["comment"]
    assert set(comment) == COMMENT_KEYS
    assert isinstance(comment["id"], int)
    assert comment["body"] == "Thank you so much!"
    assert TIMESTAMP.match(comment["createdAt"]), comment["createdAt"]
    assert comment["updatedAt"] == comment["createdAt"]
    assert comment["author"] == {"username": "jane", "bio": "", "image": None, "following": False}


async def test_list_comments_is_newest_first_and_readable_without_a_token(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake)
    first = await add_comment(client, jane, SLUG, "first")
    second = await add_comment(client, jake, SLUG, "second")
    third = await add_comment(client, jane, SLUG, "third")

    comments = await _comments(client)

    assert comments == [third, second, first]
    assert len({c["id"] for c in comments}) == 3
    for comment in comments:
        assert set(comment) == COMMENT_KEYS
        assert set(comment["author"]) == PROFILE_KEYS
        assert TIMESTAMP.match(comment["createdAt"])
        assert TIMESTAMP.match(comment["updatedAt"])


async def test_list_comments_shows_only_the_articles_own_comments(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake, "One")
    await publish(client, jake, "Two")
    await add_comment(client, jane, "one", "on one")
    await add_comment(client, jane, "two", "on two")

    assert await comment_bodies(client, "one") == ["on one"]
    assert await comment_bodies(client, "two") == ["on two"]


@MEMORY_ONLY
async def test_list_comments_is_empty_for_an_article_without_comments(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    await publish(client, jake)

    assert await _comments(client) == []


async def test_comment_author_following_is_exact_for_the_viewer(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    bob = await register(client, "bob")
    await publish(client, jake)
    await add_comment(client, jane, SLUG, "by jane")
    await add_comment(client, bob, SLUG, "by bob")
    await follow(client, jake, "jane")

    def following(comments: list[dict[str, Any]]) -> dict[str, bool]:
        return {c["author"]["username"]: c["author"]["following"] for c in comments}

    assert following(await _comments(client, viewer=jake)) == {"jane": True, "bob": False}
    assert following(await _comments(client, viewer=bob)) == {"jane": False, "bob": False}
    assert following(await _comments(client)) == {"jane": False, "bob": False}


async def test_delete_comment_answers_204_with_an_empty_body(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake)
    kept = await add_comment(client, jane, SLUG, "kept")
    doomed = await add_comment(client, jane, SLUG, "doomed")

    response = await client.delete(
        f"/api/articles/{SLUG}/comments/{doomed['id']}", headers=jane.auth
    )

    assert response.status_code == 204
    assert response.content == b""
    assert await _comments(client) == [kept]


async def test_only_the_comment_author_may_delete_it(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake)
    comment = await add_comment(client, jane, SLUG)

    # Not even the article's author.
    response = await client.delete(
        f"/api/articles/{SLUG}/comments/{comment['id']}", headers=jake.auth
    )

    assert_error(response, 403, "body")
    assert await _comments(client) == [comment]


async def test_delete_comment_through_another_articles_slug_is_404(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake, "One")
    await publish(client, jake, "Two")
    comment = await add_comment(client, jane, "one")

    response = await client.delete(f"/api/articles/two/comments/{comment['id']}", headers=jane.auth)

    assert_error(response, 404, "body")
    assert await _comments(client, "one") == [comment]


@MEMORY_ONLY
async def test_deleted_comment_cannot_be_deleted_again(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    await publish(client, jake)
    comment = await add_comment(client, jake, SLUG)
    path = f"/api/articles/{SLUG}/comments/{comment['id']}"
    assert (await client.delete(path, headers=jake.auth)).status_code == 204

    assert_error(await client.delete(path, headers=jake.auth), 404, "body")


async def test_add_comment_that_is_rejected_writes_nothing(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    await publish(client, jake)
    await add_comment(client, jake, SLUG, "existing")

    blank = await client.post(
        f"/api/articles/{SLUG}/comments", json={"comment": {"body": "  "}}, headers=jake.auth
    )
    anonymous = await client.post(
        f"/api/articles/{SLUG}/comments", json={"comment": {"body": "sneaky"}}
    )

    assert_error(blank, 422, "body")
    assert_error(anonymous, 401, "body")
    assert await comment_bodies(client, SLUG) == ["existing"]


@MEMORY_ONLY
class TestCommentErrors:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/api/articles/no-such-article/comments"),
            ("POST", "/api/articles/no-such-article/comments"),
            ("DELETE", "/api/articles/no-such-article/comments/1"),
            ("DELETE", f"/api/articles/{SLUG}/comments/999999"),
        ],
    )
    async def test_unknown_article_or_comment_is_404(
        self, client: httpx2.AsyncClient, jake: Account, method: str, path: str
    ) -> None:
        await publish(client, jake)

        response = await client.request(
            method, path, json={"comment": {"body": "hi"}}, headers=jake.auth
        )

        assert_error(response, 404, "body")

    @pytest.mark.parametrize(
        ("comment", "field"),
        [
            ({"body": ""}, "body"),
            ({"body": " \n "}, "body"),
            ({"body": "x" * (COMMENT_MAX + 1)}, "body"),
            ({"body": 123}, "body"),
            ({"body": None}, "body"),
            ({}, "body"),
        ],
    )
    async def test_add_comment_refuses_an_invalid_body_with_422(
        self, client: httpx2.AsyncClient, jake: Account, comment: dict[str, Any], field: str
    ) -> None:
        await publish(client, jake)

        response = await client.post(
            f"/api/articles/{SLUG}/comments", json={"comment": comment}, headers=jake.auth
        )

        assert_error(response, 422, field)
        assert await _comments(client) == []

    @pytest.mark.parametrize("body", [{}, {"comment": None}, {"body": "x"}, {"comment": "x"}])
    async def test_add_comment_refuses_a_body_without_a_comment_object(
        self, client: httpx2.AsyncClient, jake: Account, body: dict[str, Any]
    ) -> None:
        await publish(client, jake)

        response = await client.post(f"/api/articles/{SLUG}/comments", json=body, headers=jake.auth)

        assert_error(response, 422, "body")

    @pytest.mark.parametrize("comment_id", ["abc", "0", "-1", "1.5", str(2**63)])
    async def test_delete_comment_refuses_a_malformed_id_with_422(
        self, client: httpx2.AsyncClient, jake: Account, comment_id: str
    ) -> None:
        await publish(client, jake)

        response = await client.delete(
            f"/api/articles/{SLUG}/comments/{comment_id}", headers=jake.auth
        )

        assert_error(response, 422, "comment_id")

    async def test_delete_comment_requires_a_token(
        self, client: httpx2.AsyncClient, jake: Account
    ) -> None:
        await publish(client, jake)
        comment = await add_comment(client, jake, SLUG)

        response = await client.delete(f"/api/articles/{SLUG}/comments/{comment['id']}")

        assert_error(response, 401, "body")
        assert await _comments(client) == [comment]

    async def test_comment_at_the_maximum_length_is_accepted(
        self, client: httpx2.AsyncClient, jake: Account
    ) -> None:
        await publish(client, jake)

        comment = await add_comment(client, jake, SLUG, "x" * COMMENT_MAX)

        assert len(comment["body"]) == COMMENT_MAX
