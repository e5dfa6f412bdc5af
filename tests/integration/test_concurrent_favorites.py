"""Concurrent favorites on the real databases: counts stay exact (ON CONFLICT DO NOTHING,
primary key on (user, article); SQLite serialises writers with BEGIN IMMEDIATE + busy_timeout).

Each writer runs as FavoriteArticle does: read the article, write the link, commit, each in
its own transaction and connection.
"""

from __future__ import annotations

import asyncio

from adapters.sql.queries import SqlArticleQueries
from adapters.sql.uow import SqlAlchemyUnitOfWork
from core.articles.model import Article
from core.articles.views import ArticleFilter
from core.shared.pagination import PageRequest
from core.users.model import User
from entrypoints.container import AppUnitOfWork
from tests.builders import a_user, an_article
from tests.infra import Storage

FANS = 20


async def _favorite(uow: AppUnitOfWork, user: User, slug: str) -> None:
    async with uow.begin() as tx:
        article = await tx.articles.get_by_slug(slug)
        assert article is not None
        await tx.favorites.add(user.id, article.id)
        await tx.commit()


async def _unfavorite(uow: AppUnitOfWork, user: User, slug: str) -> None:
    async with uow.begin() as tx:
        article = await tx.articles.get_by_slug(slug)
        assert article is not None
        await tx.favorites.remove(user.id, article.id)
        await tx.commit()


async def _setup(
    sql_storage: Storage,
) -> tuple[AppUnitOfWork, SqlArticleQueries, list[User], Article]:
    assert sql_storage.engine is not None
    uow = SqlAlchemyUnitOfWork(sql_storage.engine)
    queries = SqlArticleQueries(sql_storage.engine)
    fans = [a_user(f"fan{i}") for i in range(FANS)]
    article = an_article(fans[0].id, title="Popular")
    async with uow.begin() as tx:
        for fan in fans:
            await tx.users.add(fan)
        await tx.articles.add(article)
        await tx.commit()
    return uow, queries, fans, article


async def _count(queries: SqlArticleQueries, slug: str) -> int:
    view = await queries.get_article(slug, None)
    assert view is not None
    return view.favorites_count


async def test_concurrent_favorites_by_distinct_users_are_all_counted(
    sql_storage: Storage,
) -> None:
    uow, queries, fans, article = await _setup(sql_storage)

    await asyncio.gather(*(_favorite(uow, fan, article.slug) for fan in fans))

    assert await _count(queries, article.slug) == FANS
    for fan in fans:
        view = await queries.get_article(article.slug, fan.id)
        assert view is not None
        assert view.favorited is True


async def test_concurrent_unfavorites_leave_the_exact_remainder(sql_storage: Storage) -> None:
    uow, queries, fans, article = await _setup(sql_storage)
    await asyncio.gather(*(_favorite(uow, fan, article.slug) for fan in fans))
    assert await _count(queries, article.slug) == FANS
    leaving, staying = fans[::2], fans[1::2]

    await asyncio.gather(*(_unfavorite(uow, fan, article.slug) for fan in leaving))

    assert await _count(queries, article.slug) == len(staying)
    for name, expected in (("fan0", False), ("fan1", True)):
        page = await queries.list_articles(ArticleFilter(favorited_by=name), PageRequest(), None)
        assert (page.total == 1) is expected


async def test_concurrent_favorites_and_unfavorites_end_exact(sql_storage: Storage) -> None:
    uow, queries, fans, article = await _setup(sql_storage)
    first_half, second_half = fans[: FANS // 2], fans[FANS // 2 :]
    await asyncio.gather(*(_favorite(uow, fan, article.slug) for fan in first_half))

    await asyncio.gather(
        *(_unfavorite(uow, fan, article.slug) for fan in first_half),
        *(_favorite(uow, fan, article.slug) for fan in second_half),
    )

    assert await _count(queries, article.slug) == len(second_half)


async def test_concurrent_favorites_by_the_same_user_count_once(sql_storage: Storage) -> None:
    uow, queries, fans, article = await _setup(sql_storage)

    await asyncio.gather(*(_favorite(uow, fans[1], article.slug) for _ in range(10)))

    assert await _count(queries, article.slug) == 1
