"""Articles, favorites and the feed: /articles, /articles/feed, /articles/{slug}[/favorite]."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from core.articles.model import BODY_MAX, DESCRIPTION_MAX, TAG_MAX, TAGS_MAX, TITLE_MAX
from tests.api.helpers import (
    ARTICLE_KEYS,
    LIST_ITEM_KEYS,
    MEMORY_ONLY,
    PROFILE_KEYS,
    TIMESTAMP,
    Account,
    add_comment,
    articles_count,
    assert_error,
    favorite,
    follow,
    list_articles,
    publish,
    register,
)

NEW_ARTICLE = {
    "title": "How to train your dragon",
    "description": "Ever wonder how?",
    "body": "You have to believe",
    "tagList": ["training", "dragons"],
}


async def _get(
    client: httpx2.AsyncClient, slug: str, viewer: Account | None = None
) -> dict[str, Any]:
    response = await client.get(f"/api/articles/{slug}", headers=viewer.auth if viewer else {})
    assert response.status_code == 200, response.text
    article: dict[str, Any] = response.json()["article"]
    return article


async def _feed(client: httpx2.AsyncClient, viewer: Account, **params: int) -> dict[str, Any]:
    response = await client.get("/api/articles/feed", params=params, headers=viewer.auth)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def _slugs(page: dict[str, Any]) -> list[str]:
    return [a["slug"] for a in page["articles"]]


# --- create and read ---------------------------------------------------------------------


async def test_create_article_answers_201_with_the_article(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    response = await client.post("/api/articles", json={"article": NEW_ARTICLE}, headers=jake.auth)

    assert response.status_code == 201, response.text
    article = response.json()["article"]
    assert set(article) == ARTICLE_KEYS
    assert article["slug"] == "how-to-train-your-dragon"
    assert article["title"] == NEW_ARTICLE["title"]
    assert article["description"] == NEW_ARTICLE["description"]
    assert article["body"] == NEW_ARTICLE["body"]
    assert article["tagList"] == ["dragons", "training"]
    assert TIMESTAMP.match(article["createdAt"]), article["createdAt"]
    assert article["updatedAt"] == article["createdAt"]
    assert (article["favorited"], article["favoritesCount"]) == (False, 0)
    assert article["author"] == {"username": "jake", "bio": "", "image": None, "following": False}


async def test_create_article_answers_what_reading_it_back_answers_byte_for_byte(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    """The creation builds its answer from what it wrote (no read back): the same bytes as
    the author's own read of the article, with a plain and with an id-suffixed slug."""
    profile = {"bio": "I work at statefarm", "image": "https://i.example/jake.png"}
    updated = await client.put("/api/user", json={"user": profile}, headers=jake.auth)
    assert updated.status_code == 200, updated.text
    await follow(client, jane, "jake")  # someone else's follow: jake's own view says false
    taken = (await publish(client, jane, "Ünïcode & <taken>"))["slug"]
    fields = {"description": "d \u00e9", "body": 'line\n"quoted"'}
    tags = ["zeta", " Alpha ", "zeta", "mu"]

    for title in ("Ünïcode & <free>", "Ünïcode & <taken>"):
        article = {"title": title, **fields, "tagList": tags}
        created = await client.post("/api/articles", json={"article": article}, headers=jake.auth)
        assert created.status_code == 201, created.text
        slug = created.json()["article"]["slug"]
        read = await client.get(f"/api/articles/{slug}", headers=jake.auth)
        assert read.status_code == 200, read.text

        assert created.content == read.content
        assert created.json()["article"]["tagList"] == ["Alpha", "mu", "zeta"]
        assert slug != taken
        assert slug.startswith(taken) is title.endswith("<taken>")  # the id-suffixed one


@MEMORY_ONLY
async def test_create_article_trims_deduplicates_and_sorts_tags(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    article = await publish(client, jake, tags=[" zeta ", "alpha", "zeta", "", "   ", "Mu"])

    assert article["tagList"] == ["Mu", "alpha", "zeta"]
    assert (await _get(client, article["slug"]))["tagList"] == ["Mu", "alpha", "zeta"]


@MEMORY_ONLY
async def test_create_article_without_tag_list_has_no_tags(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    article = await publish(client, jake)

    assert article["tagList"] == []


async def test_get_article_without_a_token_answers_the_full_article(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    created = await publish(client, jake, tags=["b", "a"])

    response = await client.get(f"/api/articles/{created['slug']}")

    assert response.status_code == 200, response.text
    assert response.json() == {"article": created}


async def test_reused_title_gets_a_distinct_slug(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    first = await publish(client, jake, "Same title", body="first")
    second = await publish(client, jane, "Same title", body="second")
    third = await publish(client, jake, "Same  Title!", body="third")

    slugs = {first["slug"], second["slug"], third["slug"]}
    assert len(slugs) == 3
    assert first["slug"] == "same-title"
    assert all(slug.startswith("same-title") for slug in slugs)
    bodies = [(await _get(client, a["slug"]))["body"] for a in (first, second, third)]
    assert bodies == ["first", "second", "third"]


@MEMORY_ONLY
@pytest.mark.parametrize("title", ["日本語のタイトル", "!!!", "   ***   "])
async def test_title_without_slug_characters_still_gets_a_usable_slug(
    client: httpx2.AsyncClient, jake: Account, title: str
) -> None:
    article = await publish(client, jake, title)

    assert article["slug"]
    assert article["title"] == title.strip()
    assert (await _get(client, article["slug"]))["title"] == title.strip()


# --- update ------------------------------------------------------------------------------


async def test_update_article_with_a_new_title_changes_the_slug(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    old = await publish(client, jake, "Old title")

    response = await client.put(
        "/api/articles/old-title", json={"article": {"title": "New title"}}, headers=jake.auth
    )

    assert response.status_code == 200, response.text
    article = response.json()["article"]
    assert set(article) == ARTICLE_KEYS
    assert (article["slug"], article["title"]) == ("new-title", "New title")
    assert (article["body"], article["createdAt"]) == (old["body"], old["createdAt"])
    assert TIMESTAMP.match(article["updatedAt"])
    assert article["updatedAt"] > old["updatedAt"]
    assert (await client.get("/api/articles/old-title")).status_code == 404
    assert await _get(client, "new-title") == article


async def test_update_article_to_another_articles_title_gets_a_distinct_slug(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    await publish(client, jake, "Taken", body="original")
    await publish(client, jake, "Mine", body="mine")

    response = await client.put(
        "/api/articles/mine", json={"article": {"title": "Taken"}}, headers=jake.auth
    )

    assert response.status_code == 200, response.text
    slug = response.json()["article"]["slug"]
    assert slug.startswith("taken")
    assert slug != "taken"
    assert (await _get(client, "taken"))["body"] == "original"
    assert (await _get(client, slug))["body"] == "mine"


@MEMORY_ONLY
async def test_update_article_with_the_same_title_keeps_the_slug(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    await publish(client, jake, "Stable")

    response = await client.put(
        "/api/articles/stable",
        json={"article": {"title": "Stable", "body": "new body"}},
        headers=jake.auth,
    )

    assert response.status_code == 200, response.text
    assert response.json()["article"]["slug"] == "stable"
    assert (await _get(client, "stable"))["body"] == "new body"


async def test_update_article_changes_only_the_sent_fields(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    old = await publish(client, jake, tags=["keep"])

    response = await client.put(
        f"/api/articles/{old['slug']}",
        json={"article": {"description": "new description", "body": "new body"}},
        headers=jake.auth,
    )

    assert response.status_code == 200, response.text
    article = await _get(client, old["slug"])
    assert (article["description"], article["body"]) == ("new description", "new body")
    assert (article["title"], article["tagList"]) == (old["title"], ["keep"])


async def test_update_article_applies_a_sent_tag_list(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    old = await publish(client, jake, tags=["old", "stale"])

    response = await client.put(
        f"/api/articles/{old['slug']}",
        json={"article": {"body": "b2", "tagList": ["new", "fresh", "new"]}},
        headers=jake.auth,
    )

    assert response.status_code == 200, response.text
    assert response.json()["article"]["tagList"] == ["fresh", "new"]
    assert (await _get(client, old["slug"]))["tagList"] == ["fresh", "new"]
    assert (await client.get("/api/tags")).json() == {"tags": ["fresh", "new"]}
    assert await articles_count(client, tag="old") == 0
    assert await articles_count(client, tag="fresh") == 1


async def test_update_article_with_an_empty_tag_list_removes_the_tags(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    old = await publish(client, jake, tags=["gone"])

    response = await client.put(
        f"/api/articles/{old['slug']}", json={"article": {"tagList": []}}, headers=jake.auth
    )

    assert response.status_code == 200, response.text
    assert (await _get(client, old["slug"]))["tagList"] == []


async def test_only_the_author_may_update_an_article(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    old = await publish(client, jake, tags=["mine"])

    response = await client.put(
        f"/api/articles/{old['slug']}",
        json={"article": {"title": "Hijacked", "tagList": ["theirs"]}},
        headers=jane.auth,
    )

    assert_error(response, 403, "body")
    assert await _get(client, old["slug"]) == old


async def test_update_that_is_rejected_changes_nothing(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    old = await publish(client, jake, tags=["kept"])

    response = await client.put(
        f"/api/articles/{old['slug']}",
        json={"article": {"title": "A new title", "body": "   ", "tagList": ["lost"]}},
        headers=jake.auth,
    )

    assert_error(response, 422, "body")
    assert await _get(client, old["slug"]) == old
    assert (await client.get("/api/articles/a-new-title")).status_code == 404


# --- delete ------------------------------------------------------------------------------


async def test_delete_article_answers_204_with_an_empty_body(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    article = await publish(client, jake)
    await publish(client, jake, "Another one")

    response = await client.delete(f"/api/articles/{article['slug']}", headers=jake.auth)

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/api/articles/{article['slug']}")).status_code == 404
    assert _slugs(await list_articles(client)) == ["another-one"]


async def test_only_the_author_may_delete_an_article(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    article = await publish(client, jake)

    response = await client.delete(f"/api/articles/{article['slug']}", headers=jane.auth)

    assert_error(response, 403, "body")
    assert await _get(client, article["slug"]) == article


async def test_delete_article_removes_its_comments_and_favorites(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    article = await publish(client, jake, "Doomed", tags=["doomed"])
    await add_comment(client, jane, "doomed")
    await favorite(client, jane, "doomed")

    assert (await client.delete("/api/articles/doomed", headers=jake.auth)).status_code == 204

    assert_error(await client.get("/api/articles/doomed/comments"), 404, "body")
    assert await articles_count(client, favorited="jane") == 0
    assert (await client.get("/api/tags")).json() == {"tags": []}
    # A new article under the same slug starts clean.
    reborn = await publish(client, jake, "Doomed")
    assert reborn["slug"] == article["slug"]
    assert (reborn["favoritesCount"], reborn["favorited"]) == (0, False)
    assert (await _get(client, "doomed", jane))["favorited"] is False
    assert (await client.get("/api/articles/doomed/comments")).json() == {"comments": []}


@MEMORY_ONLY
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/articles/no-such-article", None),
        ("PUT", "/api/articles/no-such-article", {"article": {"body": "x"}}),
        ("DELETE", "/api/articles/no-such-article", None),
        ("POST", "/api/articles/no-such-article/favorite", None),
        ("DELETE", "/api/articles/no-such-article/favorite", None),
    ],
)
async def test_unknown_slug_is_404(
    client: httpx2.AsyncClient,
    jake: Account,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    await publish(client, jake)

    response = await client.request(method, path, json=body, headers=jake.auth)

    assert_error(response, 404, "body")
    assert await articles_count(client) == 1


# --- lists -------------------------------------------------------------------------------


async def test_list_is_newest_first_without_body(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    for i, author in enumerate([jake, jane, jake]):
        await publish(client, author, f"Article {i}", tags=["b", "a"])

    page = await list_articles(client)

    assert page["articlesCount"] == 3
    assert _slugs(page) == ["article-2", "article-1", "article-0"]
    for item in page["articles"]:
        assert set(item) == LIST_ITEM_KEYS
        assert set(item["author"]) == PROFILE_KEYS
        assert item["tagList"] == ["a", "b"]
        assert TIMESTAMP.match(item["createdAt"])
        assert TIMESTAMP.match(item["updatedAt"])
    created = [item["createdAt"] for item in page["articles"]]
    assert created == sorted(created, reverse=True)


@MEMORY_ONLY
async def test_list_is_empty_when_there_are_no_articles(client: httpx2.AsyncClient) -> None:
    assert await list_articles(client) == {"articles": [], "articlesCount": 0}


async def test_list_defaults_to_20_items_and_counts_every_match(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    for i in range(22):
        await publish(client, jake, f"Article {i}")

    page = await list_articles(client)

    assert page["articlesCount"] == 22
    assert len(page["articles"]) == 20
    assert _slugs(page)[0] == "article-21"
    assert _slugs(page)[-1] == "article-2"


async def test_list_pages_with_limit_and_offset(client: httpx2.AsyncClient, jake: Account) -> None:
    for i in range(5):
        await publish(client, jake, f"Article {i}")

    first = await list_articles(client, limit=2)
    second = await list_articles(client, limit=2, offset=2)
    last = await list_articles(client, limit=2, offset=4)
    beyond = await list_articles(client, limit=2, offset=10)

    assert [_slugs(p) for p in (first, second, last, beyond)] == [
        ["article-4", "article-3"],
        ["article-2", "article-1"],
        ["article-0"],
        [],
    ]
    assert {p["articlesCount"] for p in (first, second, last, beyond)} == {5}


async def test_list_filters_by_tag_author_and_favorited_and_they_combine(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake, "Jake dragons", tags=["dragons"])
    await publish(client, jake, "Jake cats", tags=["cats"])
    await publish(client, jane, "Jane dragons", tags=["dragons", "training"])
    await favorite(client, jane, "jake-dragons")
    await favorite(client, jane, "jake-cats")

    by_tag = await list_articles(client, tag="dragons")
    by_author = await list_articles(client, author="jake")
    by_fan = await list_articles(client, favorited="jane")
    combined = await list_articles(client, tag="dragons", author="jake", favorited="jane")

    assert _slugs(by_tag) == ["jane-dragons", "jake-dragons"]
    assert by_tag["articlesCount"] == 2
    assert _slugs(by_author) == ["jake-cats", "jake-dragons"]
    assert _slugs(by_fan) == ["jake-cats", "jake-dragons"]
    assert _slugs(combined) == ["jake-dragons"]
    assert combined["articlesCount"] == 1
    assert await articles_count(client, author="jane", favorited="jane") == 0


async def test_list_counts_every_filtered_match_beyond_the_page(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    for i in range(4):
        await publish(client, jake, f"Tagged {i}", tags=["x"])
    await publish(client, jane, "Untagged")

    page = await list_articles(client, tag="x", limit=1)

    assert page["articlesCount"] == 4
    assert _slugs(page) == ["tagged-3"]


@MEMORY_ONLY
@pytest.mark.parametrize("params", [{"tag": "nope"}, {"author": "nobody"}, {"favorited": "nobody"}])
async def test_list_filter_matching_nothing_is_empty_not_an_error(
    client: httpx2.AsyncClient, jake: Account, params: dict[str, str]
) -> None:
    await publish(client, jake, tags=["yes"])

    assert await list_articles(client, **params) == {"articles": [], "articlesCount": 0}


# --- favorites ---------------------------------------------------------------------------


@MEMORY_ONLY
async def test_favorite_answers_the_article_favorited_with_its_count(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake)

    response = await client.post(
        "/api/articles/how-to-train-your-dragon/favorite", headers=jane.auth
    )

    assert response.status_code == 200, response.text
    article = response.json()["article"]
    assert set(article) == ARTICLE_KEYS
    assert (article["favorited"], article["favoritesCount"]) == (True, 1)


async def test_favorited_and_count_are_exact_for_each_viewer_and_false_anonymously(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    bob = await register(client, "bob")
    await publish(client, jake, "Loved")
    await publish(client, jake, "Ignored")
    await favorite(client, jane, "loved")
    await favorite(client, bob, "loved")

    def flags(page: dict[str, Any]) -> dict[str, tuple[bool, int]]:
        return {a["slug"]: (a["favorited"], a["favoritesCount"]) for a in page["articles"]}

    assert flags(await list_articles(client, jane)) == {
        "loved": (True, 2),
        "ignored": (False, 0),
    }
    assert flags(await list_articles(client, jake)) == {
        "loved": (False, 2),
        "ignored": (False, 0),
    }
    assert flags(await list_articles(client)) == {"loved": (False, 2), "ignored": (False, 0)}
    single = await _get(client, "loved", bob)
    assert (single["favorited"], single["favoritesCount"]) == (True, 2)
    anonymous = await _get(client, "loved")
    assert (anonymous["favorited"], anonymous["favoritesCount"]) == (False, 2)


async def test_favorite_is_idempotent(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake)
    await favorite(client, jane, "how-to-train-your-dragon")

    response = await client.post(
        "/api/articles/how-to-train-your-dragon/favorite", headers=jane.auth
    )

    assert response.status_code == 200, response.text
    assert response.json()["article"]["favoritesCount"] == 1


async def test_unfavorite_answers_the_article_not_favorited(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake)
    await favorite(client, jane, "how-to-train-your-dragon")

    response = await client.delete(
        "/api/articles/how-to-train-your-dragon/favorite", headers=jane.auth
    )

    assert response.status_code == 200, response.text
    article = response.json()["article"]
    assert set(article) == ARTICLE_KEYS
    assert (article["favorited"], article["favoritesCount"]) == (False, 0)
    assert await articles_count(client, favorited="jane") == 0


@MEMORY_ONLY
async def test_unfavorite_is_idempotent_when_not_favorited(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake)
    await favorite(client, jake, "how-to-train-your-dragon")

    response = await client.delete(
        "/api/articles/how-to-train-your-dragon/favorite", headers=jane.auth
    )

    assert response.status_code == 200, response.text
    assert response.json()["article"]["favoritesCount"] == 1


# --- following in articles and the feed -----------------------------------------------------


async def test_author_following_is_exact_for_the_viewer_in_lists_and_articles(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    bob = await register(client, "bob")
    await publish(client, jake, "By jake")
    await publish(client, bob, "By bob")
    await follow(client, jane, "jake")

    def following(page: dict[str, Any]) -> dict[str, bool]:
        return {a["author"]["username"]: a["author"]["following"] for a in page["articles"]}

    assert following(await list_articles(client, jane)) == {"jake": True, "bob": False}
    assert following(await list_articles(client)) == {"jake": False, "bob": False}
    assert following(await list_articles(client, jake)) == {"jake": False, "bob": False}
    assert (await _get(client, "by-jake", jane))["author"]["following"] is True
    assert (await _get(client, "by-jake"))["author"]["following"] is False


async def test_feed_has_only_followed_authors_newest_first(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    bob = await register(client, "bob")
    await publish(client, jake, "Jake 1")
    await publish(client, bob, "Bob 1")
    await publish(client, jane, "Own article")
    await publish(client, jake, "Jake 2")
    await follow(client, jane, "jake")

    page = await _feed(client, jane)

    assert _slugs(page) == ["jake-2", "jake-1"]
    assert page["articlesCount"] == 2
    for item in page["articles"]:
        assert set(item) == LIST_ITEM_KEYS
        assert item["author"]["following"] is True


@MEMORY_ONLY
async def test_feed_pages_with_limit_and_offset_and_counts_every_match(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    for i in range(3):
        await publish(client, jake, f"Jake {i}")
    await follow(client, jane, "jake")

    page = await _feed(client, jane, limit=1, offset=1)

    assert _slugs(page) == ["jake-1"]
    assert page["articlesCount"] == 3


async def test_feed_is_empty_when_following_nobody(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake)

    assert await _feed(client, jane) == {"articles": [], "articlesCount": 0}


async def test_feed_drops_an_author_after_unfollowing(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    await publish(client, jake)
    await follow(client, jane, "jake")
    await client.delete("/api/profiles/jake/follow", headers=jane.auth)

    assert await _feed(client, jane) == {"articles": [], "articlesCount": 0}


# --- rejected writes leave nothing behind ----------------------------------------------------


async def test_create_that_is_rejected_leaves_no_article_and_no_tags(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    await publish(client, jake, "Existing", tags=["existing"])
    # One tag longer than the tag column: refused before it reaches storage.
    article = {**NEW_ARTICLE, "tagList": ["ok", "x" * (TAG_MAX + 1)]}

    response = await client.post("/api/articles", json={"article": article}, headers=jake.auth)

    assert response.status_code == 422, response.text
    assert await articles_count(client) == 1
    assert await articles_count(client, author="jake") == 1
    assert (await client.get("/api/tags")).json() == {"tags": ["existing"]}
    assert (await client.get("/api/articles/how-to-train-your-dragon")).status_code == 404


@MEMORY_ONLY
async def test_create_without_a_token_is_401_and_writes_nothing(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.post("/api/articles", json={"article": NEW_ARTICLE})

    assert_error(response, 401, "body")
    assert await articles_count(client) == 0


# --- request validation (storage-independent) ------------------------------------------------


@MEMORY_ONLY
class TestArticleValidation:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"title": ""}, "title"),
            ({"title": "   "}, "title"),
            ({"description": ""}, "description"),
            ({"description": " \n\t "}, "description"),
            ({"body": ""}, "body"),
            ({"body": "  "}, "body"),
            ({"title": "x" * (TITLE_MAX + 1)}, "title"),
            ({"description": "x" * (DESCRIPTION_MAX + 1)}, "description"),
            ({"body": "x" * (BODY_MAX + 1)}, "body"),
            ({"tagList": ["x" * (TAG_MAX + 1)]}, "tagList"),
            ({"tagList": ["t"] * (TAGS_MAX + 1)}, "tagList"),
            ({"tagList": [f"t{i}" for i in range(TAGS_MAX + 1)]}, "tagList"),
            ({"title": 123}, "title"),
            ({"title": None}, "title"),
            ({"body": ["a"]}, "body"),
            ({"tagList": "x"}, "tagList"),
            ({"tagList": [1]}, "tagList"),
            ({"tagList": {"a": 1}}, "tagList"),
        ],
    )
    async def test_create_refuses_an_invalid_field_with_422(
        self, client: httpx2.AsyncClient, jake: Account, change: dict[str, Any], field: str
    ) -> None:
        response = await client.post(
            "/api/articles", json={"article": {**NEW_ARTICLE, **change}}, headers=jake.auth
        )

        assert_error(response, 422, field)
        assert await articles_count(client) == 0

    @pytest.mark.parametrize("missing", ["title", "description", "body"])
    async def test_create_refuses_a_missing_field_with_422(
        self, client: httpx2.AsyncClient, jake: Account, missing: str
    ) -> None:
        article = {k: v for k, v in NEW_ARTICLE.items() if k != missing}

        response = await client.post("/api/articles", json={"article": article}, headers=jake.auth)

        assert assert_error(response, 422, missing)[missing] == ["can't be blank"]

    async def test_create_names_each_wrongly_typed_field(
        self, client: httpx2.AsyncClient, jake: Account
    ) -> None:
        article = {**NEW_ARTICLE, "title": 123, "tagList": "x"}

        response = await client.post("/api/articles", json={"article": article}, headers=jake.auth)

        assert_error(response, 422, "title", "tagList")

    async def test_create_reports_the_maximum_of_a_too_long_title(
        self, client: httpx2.AsyncClient, jake: Account
    ) -> None:
        article = {**NEW_ARTICLE, "title": "x" * (TITLE_MAX + 1)}

        response = await client.post("/api/articles", json={"article": article}, headers=jake.auth)

        assert assert_error(response, 422, "title")["title"] == [
            f"is too long (maximum is {TITLE_MAX} characters)"
        ]

    async def test_create_accepts_fields_at_their_maximum_length(
        self, client: httpx2.AsyncClient, jake: Account
    ) -> None:
        article = {
            "title": "t" * TITLE_MAX,
            "description": "d" * DESCRIPTION_MAX,
            "body": "b" * BODY_MAX,
            "tagList": [f"{i:0{TAG_MAX}d}" for i in range(TAGS_MAX)],
        }

        response = await client.post("/api/articles", json={"article": article}, headers=jake.auth)

        assert response.status_code == 201, response.text
        assert len(response.json()["article"]["tagList"]) == TAGS_MAX

    @pytest.mark.parametrize("body", [{}, {"article": None}, {"article": []}, {"title": "x"}])
    async def test_create_refuses_a_body_without_an_article_object(
        self, client: httpx2.AsyncClient, jake: Account, body: dict[str, Any]
    ) -> None:
        response = await client.post("/api/articles", json=body, headers=jake.auth)

        assert_error(response, 422, "body")

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"title": ""}, "title"),
            ({"description": "  "}, "description"),
            ({"body": ""}, "body"),
            ({"title": "x" * (TITLE_MAX + 1)}, "title"),
            ({"title": 123}, "title"),
            ({"tagList": "x"}, "tagList"),
            ({"tagList": ["x" * (TAG_MAX + 1)]}, "tagList"),
        ],
    )
    async def test_update_refuses_an_invalid_field_with_422_and_changes_nothing(
        self, client: httpx2.AsyncClient, jake: Account, change: dict[str, Any], field: str
    ) -> None:
        old = await publish(client, jake)

        response = await client.put(
            f"/api/articles/{old['slug']}", json={"article": change}, headers=jake.auth
        )

        assert_error(response, 422, field)
        assert await _get(client, old["slug"]) == old

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=-1", "limit"),
            ("limit=abc", "limit"),
            ("limit=1.5", "limit"),
            ("offset=-1", "offset"),
            ("offset=abc", "offset"),
            ("offset=99999999999999999999", "offset"),
        ],
    )
    @pytest.mark.parametrize("path", ["/api/articles", "/api/articles/feed"])
    async def test_list_and_feed_refuse_invalid_paging_with_422(
        self, client: httpx2.AsyncClient, jake: Account, query: str, field: str, path: str
    ) -> None:
        response = await client.get(f"{path}?{query}", headers=jake.auth)

        assert_error(response, 422, field)

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            (f"tag={'x' * (TAG_MAX + 1)}", "tag"),
            (f"author={'x' * 41}", "author"),
            (f"favorited={'x' * 41}", "favorited"),
        ],
    )
    async def test_list_refuses_a_too_long_filter_with_422(
        self, client: httpx2.AsyncClient, query: str, field: str
    ) -> None:
        response = await client.get(f"/api/articles?{query}")

        assert_error(response, 422, field)

    @pytest.mark.parametrize("limit", [1, 100])
    async def test_list_accepts_limits_at_the_bounds(
        self, client: httpx2.AsyncClient, jake: Account, limit: int
    ) -> None:
        await publish(client, jake, "One")
        await publish(client, jake, "Two")

        page = await list_articles(client, limit=limit)

        assert len(page["articles"]) == min(limit, 2)
        assert page["articlesCount"] == 2

    async def test_feed_requires_a_token(self, client: httpx2.AsyncClient) -> None:
        response = await client.get("/api/articles/feed")

        assert_error(response, 401, "body")
        assert response.headers["WWW-Authenticate"] == "Token"
