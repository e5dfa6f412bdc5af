"""Committing test data through any UnitOfWork, bypassing the use cases' rules."""

from __future__ import annotations

from core.articles.model import Article, Comment
from core.users.model import User
from entrypoints.container import AppUnitOfWork


async def store(uow: AppUnitOfWork, *items: User | Article | Comment) -> list[Comment]:
    """Add and commit the items in order; returns the stored comments (with their ids)."""
    stored: list[Comment] = []
    async with uow.begin() as tx:
        for item in items:
            if isinstance(item, User):
                await tx.users.add(item)
            elif isinstance(item, Article):
                await tx.articles.add(item)
            else:
                stored.append(await tx.comments.add(item))
        await tx.commit()
    return stored


async def follow(uow: AppUnitOfWork, follower: User, *followees: User) -> None:
    async with uow.begin() as tx:
        for followee in followees:
            await tx.follows.add(follower.id, followee.id)
        await tx.commit()


async def favorite(uow: AppUnitOfWork, user: User, *articles: Article) -> None:
    async with uow.begin() as tx:
        for article in articles:
            await tx.favorites.add(user.id, article.id)
        await tx.commit()


async def update(uow: AppUnitOfWork, *items: User | Article) -> None:
    """Update and commit the items in order."""
    async with uow.begin() as tx:
        for item in items:
            if isinstance(item, User):
                await tx.users.update(item)
            else:
                await tx.articles.update(item)
        await tx.commit()
