"""Writes that refer to an article deleted meanwhile: memory, SQLite and Postgres all raise
ArticleNotFound (the foreign key, mapped by the SQL adapter) and store nothing.

This is what a use case sees when it read the article and a concurrent delete committed
before its write (issue 11): the caller gets 404, not a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from core.articles.errors import ArticleNotFound
from core.articles.model import Article
from core.users.model import User
from entrypoints.container import AppUnitOfWork
from tests.builders import WHEN, a_comment, a_user, an_article
from tests.contract.seed import store


async def _deleted_article(uow: AppUnitOfWork) -> tuple[User, Article]:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons", tags=("a",))
    await store(uow, jake, article)
    async with uow.begin() as tx:
        await tx.articles.delete(article.id)
        await tx.commit()
    return jake, article


Write = Callable[[AppUnitOfWork, User, Article], Awaitable[object]]


async def _favorite(uow: AppUnitOfWork, user: User, article: Article) -> None:
    async with uow.begin() as tx:
        await tx.favorites.add(user.id, article.id)
        await tx.commit()


async def _comment(uow: AppUnitOfWork, user: User, article: Article) -> None:
    async with uow.begin() as tx:
        await tx.comments.add(a_comment(article.id, user.id))
        await tx.commit()


async def _edit_tags(uow: AppUnitOfWork, user: User, article: Article) -> None:
    async with uow.begin() as tx:
        await tx.articles.update(article.edited(now=WHEN, body="new", tags=("b", "c")))
        await tx.commit()


async def _edit_without_tags(uow: AppUnitOfWork, user: User, article: Article) -> None:
    async with uow.begin() as tx:
        await tx.articles.update(article.edited(now=WHEN, body="new", tags=()))
        await tx.commit()


@pytest.mark.parametrize("write", [_favorite, _comment, _edit_tags, _edit_without_tags])
async def test_a_write_referring_to_a_deleted_article_raises_article_not_found(
    uow: AppUnitOfWork, write: Write
) -> None:
    jake, article = await _deleted_article(uow)

    with pytest.raises(ArticleNotFound):
        await write(uow, jake, article)

    async with uow.begin() as tx:
        assert await tx.articles.get_by_slug(article.slug) is None


async def test_the_transaction_stores_nothing_after_article_not_found(
    uow: AppUnitOfWork,
) -> None:
    jake, gone = await _deleted_article(uow)
    kept = an_article(jake.id, title="Unicorns")

    async def publish_and_favorite_the_gone_one() -> None:
        async with uow.begin() as tx:
            await tx.articles.add(kept)
            await tx.favorites.add(jake.id, gone.id)
            await tx.commit()

    with pytest.raises(ArticleNotFound):
        await publish_and_favorite_the_gone_one()

    async with uow.begin() as tx:
        assert await tx.articles.get_by_slug(kept.slug) is None
