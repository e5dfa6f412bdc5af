"""FavoriteArticle and UnfavoriteArticle."""

from __future__ import annotations

import pytest

from core.articles.errors import ArticleNotFound
from core.articles.queries import GetArticle
from core.articles.use_cases import FavoriteArticle, UnfavoriteArticle
from core.users.model import Actor
from tests.builders import Fakes


@pytest.fixture
async def article_slug(fakes: Fakes, celeb: Actor) -> str:
    return (await fakes.publish(celeb, "Hello")).slug


async def test_favorite_marks_the_article_favorited_and_counts_it(
    fakes: Fakes, jake: Actor, article_slug: str
) -> None:
    view = await fakes.build(FavoriteArticle).execute(jake, article_slug)
    assert (view.slug, view.favorited, view.favorites_count) == (article_slug, True, 1)


async def test_favorite_is_idempotent(fakes: Fakes, jake: Actor, article_slug: str) -> None:
    favorite = fakes.build(FavoriteArticle)
    await favorite.execute(jake, article_slug)
    view = await favorite.execute(jake, article_slug)
    assert (view.favorited, view.favorites_count) == (True, 1)


async def test_favorites_count_every_user_once(
    fakes: Fakes, jake: Actor, celeb: Actor, article_slug: str
) -> None:
    favorite = fakes.build(FavoriteArticle)
    await favorite.execute(jake, article_slug)
    view = await favorite.execute(celeb, article_slug)
    assert (view.favorited, view.favorites_count) == (True, 2)


async def test_favorited_is_relative_to_the_viewer(
    fakes: Fakes, jake: Actor, celeb: Actor, article_slug: str
) -> None:
    await fakes.build(FavoriteArticle).execute(jake, article_slug)
    get = fakes.build(GetArticle)
    as_celeb = await get.execute(article_slug, celeb.user_id)
    anonymous = await get.execute(article_slug, None)
    assert (as_celeb.favorited, as_celeb.favorites_count) == (False, 1)
    assert (anonymous.favorited, anonymous.favorites_count) == (False, 1)


async def test_favorite_fails_with_article_not_found_for_an_unknown_slug(
    fakes: Fakes, jake: Actor
) -> None:
    with pytest.raises(ArticleNotFound):
        await fakes.build(FavoriteArticle).execute(jake, "nope")
    assert fakes.db.state.favorites == {}


async def test_unfavorite_removes_the_favorite(
    fakes: Fakes, jake: Actor, article_slug: str
) -> None:
    await fakes.build(FavoriteArticle).execute(jake, article_slug)
    view = await fakes.build(UnfavoriteArticle).execute(jake, article_slug)
    assert (view.favorited, view.favorites_count) == (False, 0)
    assert fakes.db.state.favorites == {}


async def test_unfavorite_is_idempotent(fakes: Fakes, jake: Actor, article_slug: str) -> None:
    unfavorite = fakes.build(UnfavoriteArticle)
    await unfavorite.execute(jake, article_slug)
    view = await unfavorite.execute(jake, article_slug)
    assert (view.favorited, view.favorites_count) == (False, 0)


async def test_unfavorite_keeps_other_users_favorites(
    fakes: Fakes, jake: Actor, celeb: Actor, article_slug: str
) -> None:
    favorite = fakes.build(FavoriteArticle)
    await favorite.execute(jake, article_slug)
    await favorite.execute(celeb, article_slug)
    view = await fakes.build(UnfavoriteArticle).execute(jake, article_slug)
    assert (view.favorited, view.favorites_count) == (False, 1)


async def test_unfavorite_fails_with_article_not_found_for_an_unknown_slug(
    fakes: Fakes, jake: Actor
) -> None:
    with pytest.raises(ArticleNotFound):
        await fakes.build(UnfavoriteArticle).execute(jake, "nope")
