"""Read use cases of articles: ListArticles, Feed, GetArticle, ListTags."""

from __future__ import annotations

import pytest

from core.articles.errors import ArticleNotFound
from core.articles.queries import Feed, GetArticle, ListArticles, ListTags
from core.articles.use_cases import DeleteArticle, FavoriteArticle
from core.articles.views import ArticleFilter, ArticleView
from core.profiles.use_cases import FollowUser, UnfollowUser
from core.shared.ids import new_article_id
from core.shared.pagination import PageRequest
from core.users.model import Actor
from tests.builders import Fakes, a_user, an_article

ALL = ArticleFilter()


def _titles(items: tuple[ArticleView, ...]) -> list[str]:
    return [view.title for view in items]


# ListArticles


async def test_list_is_empty_without_articles(fakes: Fakes) -> None:
    page = await fakes.build(ListArticles).execute(ALL, PageRequest(), None)
    assert (page.items, page.total) == ((), 0)


async def test_list_is_newest_first(fakes: Fakes, jake: Actor, celeb: Actor) -> None:
    await fakes.publish(jake, "One")
    await fakes.publish(celeb, "Two")
    await fakes.publish(jake, "Three")
    page = await fakes.build(ListArticles).execute(ALL, PageRequest(), None)
    assert _titles(page.items) == ["Three", "Two", "One"]


async def test_list_breaks_created_at_ties_by_id_descending(fakes: Fakes) -> None:
    author = a_user("jake")
    low, high = sorted([new_article_id(), new_article_id()])
    older = an_article(author.id, title="Older", article_id=low)
    newer = an_article(author.id, title="Newer", article_id=high)
    await fakes.store(author, newer, older)
    page = await fakes.build(ListArticles).execute(ALL, PageRequest(), None)
    assert _titles(page.items) == ["Newer", "Older"]


async def test_list_total_counts_every_match_not_only_the_page(fakes: Fakes, jake: Actor) -> None:
    for title in ("One", "Two", "Three", "Four", "Five"):
        await fakes.publish(jake, title)
    page = await fakes.build(ListArticles).execute(ALL, PageRequest(limit=2, offset=1), None)
    assert _titles(page.items) == ["Four", "Three"]
    assert page.total == 5


async def test_list_is_empty_past_the_last_match_but_still_counts_them(
    fakes: Fakes, jake: Actor
) -> None:
    await fakes.publish(jake, "One")
    page = await fakes.build(ListArticles).execute(ALL, PageRequest(offset=5), None)
    assert (page.items, page.total) == ((), 1)


async def test_list_filters_by_tag(fakes: Fakes, jake: Actor) -> None:
    await fakes.publish(jake, "Dragons", tags=["dragons", "fantasy"])
    await fakes.publish(jake, "Cooking", tags=["food"])
    page = await fakes.build(ListArticles).execute(
        ArticleFilter(tag="dragons"), PageRequest(), None
    )
    assert (_titles(page.items), page.total) == (["Dragons"], 1)


async def test_list_filters_by_author(fakes: Fakes, jake: Actor, celeb: Actor) -> None:
    await fakes.publish(jake, "By Jake")
    await fakes.publish(celeb, "By Celeb")
    page = await fakes.build(ListArticles).execute(
        ArticleFilter(author="celeb"), PageRequest(), None
    )
    assert (_titles(page.items), page.total) == (["By Celeb"], 1)


async def test_list_filters_by_who_favorited(fakes: Fakes, jake: Actor, celeb: Actor) -> None:
    await fakes.publish(celeb, "Liked")
    await fakes.publish(celeb, "Ignored")
    await fakes.build(FavoriteArticle).execute(jake, "liked")
    page = await fakes.build(ListArticles).execute(
        ArticleFilter(favorited_by="jake"), PageRequest(), None
    )
    assert (_titles(page.items), page.total) == (["Liked"], 1)


async def test_list_combines_filters(fakes: Fakes, jake: Actor, celeb: Actor) -> None:
    await fakes.publish(jake, "Jake dragons", tags=["dragons"])
    await fakes.publish(celeb, "Celeb dragons", tags=["dragons"])
    await fakes.publish(celeb, "Celeb food", tags=["food"])
    page = await fakes.build(ListArticles).execute(
        ArticleFilter(tag="dragons", author="celeb"), PageRequest(), None
    )
    assert (_titles(page.items), page.total) == (["Celeb dragons"], 1)


@pytest.mark.parametrize(
    "filters",
    [
        ArticleFilter(tag="nope"),
        ArticleFilter(author="nobody"),
        ArticleFilter(favorited_by="nobody"),
    ],
    ids=["tag", "author", "favorited_by"],
)
async def test_list_is_empty_when_a_filter_matches_nothing(
    fakes: Fakes, jake: Actor, filters: ArticleFilter
) -> None:
    await fakes.publish(jake, "Hello", tags=["x"])
    page = await fakes.build(ListArticles).execute(filters, PageRequest(), None)
    assert (page.items, page.total) == ((), 0)


async def test_list_shows_favorited_and_following_for_the_viewer(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    await fakes.publish(celeb, "Hello")
    await fakes.build(FavoriteArticle).execute(jake, "hello")
    await fakes.build(FollowUser).execute(jake, "celeb")
    list_articles = fakes.build(ListArticles)
    (as_jake,) = (await list_articles.execute(ALL, PageRequest(), jake.user_id)).items
    (anonymous,) = (await list_articles.execute(ALL, PageRequest(), None)).items
    assert (as_jake.favorited, as_jake.favorites_count, as_jake.author.following) == (True, 1, True)
    assert (anonymous.favorited, anonymous.favorites_count, anonymous.author.following) == (
        False,
        1,
        False,
    )


# Feed


async def test_feed_is_empty_when_following_nobody(fakes: Fakes, jake: Actor, celeb: Actor) -> None:
    await fakes.publish(celeb, "Hello")
    page = await fakes.build(Feed).execute(jake.user_id, PageRequest())
    assert (page.items, page.total) == ((), 0)


async def test_feed_shows_articles_of_followed_authors_newest_first(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    other = await fakes.register("other")
    await fakes.publish(celeb, "Celeb one")
    await fakes.publish(other, "Not followed")
    await fakes.publish(jake, "Own article")
    await fakes.publish(celeb, "Celeb two")
    await fakes.build(FollowUser).execute(jake, "celeb")
    page = await fakes.build(Feed).execute(jake.user_id, PageRequest())
    assert (_titles(page.items), page.total) == (["Celeb two", "Celeb one"], 2)
    assert all(view.author.following for view in page.items)


async def test_feed_total_counts_every_match_not_only_the_page(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    for title in ("One", "Two", "Three"):
        await fakes.publish(celeb, title)
    await fakes.build(FollowUser).execute(jake, "celeb")
    page = await fakes.build(Feed).execute(jake.user_id, PageRequest(limit=1, offset=1))
    assert (_titles(page.items), page.total) == (["Two"], 3)


async def test_feed_drops_authors_after_unfollowing(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    await fakes.publish(celeb, "Hello")
    await fakes.build(FollowUser).execute(jake, "celeb")
    await fakes.build(UnfollowUser).execute(jake, "celeb")
    page = await fakes.build(Feed).execute(jake.user_id, PageRequest())
    assert (page.items, page.total) == ((), 0)


# GetArticle


async def test_get_article_returns_it_by_slug(fakes: Fakes, jake: Actor) -> None:
    published = await fakes.publish(jake, "Hello", tags=["b", "a"])
    view = await fakes.build(GetArticle).execute("hello", None)
    assert view == published
    assert view.tags == ("a", "b")


async def test_get_article_fails_with_article_not_found_for_an_unknown_slug(
    fakes: Fakes,
) -> None:
    with pytest.raises(ArticleNotFound):
        await fakes.build(GetArticle).execute("nope", None)


# ListTags


async def test_list_tags_is_every_tag_in_use_once_sorted(fakes: Fakes, jake: Actor) -> None:
    await fakes.publish(jake, "One", tags=["dragons", "angular"])
    await fakes.publish(jake, "Two", tags=["zoo", "dragons"])
    assert await fakes.build(ListTags).execute() == ["angular", "dragons", "zoo"]


async def test_list_tags_drops_tags_of_deleted_articles(fakes: Fakes, jake: Actor) -> None:
    await fakes.publish(jake, "One", tags=["kept"])
    await fakes.publish(jake, "Two", tags=["gone"])
    await fakes.build(DeleteArticle).execute(jake, "two")
    assert await fakes.build(ListTags).execute() == ["kept"]
