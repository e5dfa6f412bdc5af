"""FavoriteRepository contract: memory, SQLite and Postgres behave alike.

The port only writes; the read side (ArticleQueries over the same storage) observes.
"""

from __future__ import annotations

from core.articles.ports import ArticleQueries
from entrypoints.container import AppUnitOfWork
from tests.builders import a_user, an_article
from tests.contract.seed import favorite, store


async def test_add_makes_the_article_favorited_by_that_user(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    article = an_article(jane.id, title="Dragons")
    await store(uow, jake, jane, article)

    async with uow.begin() as tx:
        await tx.favorites.add(jake.id, article.id)
        await tx.commit()

    view = await article_queries.get_article("dragons", jake.id)
    assert view is not None
    assert (view.favorited, view.favorites_count) == (True, 1)


async def test_add_is_idempotent(uow: AppUnitOfWork, article_queries: ArticleQueries) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons")
    await store(uow, jake, article)

    async with uow.begin() as tx:
        await tx.favorites.add(jake.id, article.id)
        await tx.favorites.add(jake.id, article.id)
        await tx.commit()
    async with uow.begin() as tx:
        await tx.favorites.add(jake.id, article.id)
        await tx.commit()

    view = await article_queries.get_article("dragons", jake.id)
    assert view is not None
    assert view.favorites_count == 1


async def test_add_by_several_users_counts_each_once(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    users = [a_user(f"fan{i}") for i in range(3)]
    article = an_article(users[0].id, title="Dragons")
    await store(uow, *users, article)

    for user in users:
        await favorite(uow, user, article)

    view = await article_queries.get_article("dragons", None)
    assert view is not None
    assert view.favorites_count == 3


async def test_remove_unfavorites_the_article(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons")
    await store(uow, jake, article)
    await favorite(uow, jake, article)

    async with uow.begin() as tx:
        await tx.favorites.remove(jake.id, article.id)
        await tx.commit()

    view = await article_queries.get_article("dragons", jake.id)
    assert view is not None
    assert (view.favorited, view.favorites_count) == (False, 0)


async def test_remove_is_a_no_op_when_not_favorited(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    article = an_article(jake.id, title="Dragons")
    await store(uow, jake, jane, article)
    await favorite(uow, jane, article)

    async with uow.begin() as tx:
        await tx.favorites.remove(jake.id, article.id)
        await tx.favorites.remove(jake.id, article.id)
        await tx.commit()

    view = await article_queries.get_article("dragons", jane.id)
    assert view is not None
    assert (view.favorited, view.favorites_count) == (True, 1)


async def test_remove_leaves_the_users_other_favorites(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    dragons, unicorns = an_article(jake.id, title="Dragons"), an_article(jake.id, title="Unicorns")
    await store(uow, jake, dragons, unicorns)
    await favorite(uow, jake, dragons, unicorns)

    async with uow.begin() as tx:
        await tx.favorites.remove(jake.id, dragons.id)
        await tx.commit()

    view = await article_queries.get_article("unicorns", jake.id)
    assert view is not None
    assert (view.favorited, view.favorites_count) == (True, 1)
