"""Write transactions on Postgres whose hot statements go straight to asyncpg
(adapters.sql.engine.WriteConnection): one transaction whichever path a statement takes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.tables import article_tags, articles, outbox
from adapters.sql.uow import SqlAlchemyUnitOfWork
from core.articles.errors import SlugTaken
from core.shared.errors import Unavailable
from core.shared.events import ArticlePublished
from core.users.errors import UserNotFound
from tests.builders import a_user, an_article
from tests.infra import Storage, open_storage

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
async def engine(tmp_path: Path, pg_url: str) -> AsyncIterator[AsyncEngine]:
    async with open_storage("postgres", tmp_dir=str(tmp_path), pg_url=pg_url) as storage:
        assert isinstance(storage, Storage)
        assert storage.engine is not None
        yield storage.engine


async def _counts(engine: AsyncEngine) -> tuple[int, ...]:
    """How many articles, tag links and outbox rows there are."""
    async with engine.connect() as connection:
        return tuple(
            [
                (await connection.execute(select(func.count()).select_from(table))).scalar_one()
                for table in (articles, article_tags, outbox)
            ]
        )


async def test_a_direct_write_then_an_sqlalchemy_one_commit_together(engine: AsyncEngine) -> None:
    uow, author = SqlAlchemyUnitOfWork(engine), a_user("author")
    async with uow.begin() as tx:
        await tx.users.add(author)
        await tx.commit()
    article = an_article(author.id, tags=("one", "two"))

    async with uow.begin() as tx:
        await tx.articles.add(article)  # direct
        await tx.users.update(replace(author, bio="written after"))  # through SQLAlchemy
        await tx.commit()

    assert await _counts(engine) == (1, 2, 0)
    async with uow.begin(read_only=True) as tx:
        user = await tx.users.get(author.id)
    assert user is not None
    assert user.bio == "written after"


async def test_a_direct_write_then_an_sqlalchemy_one_roll_back_together(
    engine: AsyncEngine,
) -> None:
    uow, author = SqlAlchemyUnitOfWork(engine), a_user("author")
    async with uow.begin() as tx:
        await tx.users.add(author)
        await tx.commit()

    async with uow.begin() as tx:
        await tx.articles.add(an_article(author.id, tags=("one",)))
        tx.record(ArticlePublished("slug", an_article(author.id).id, author.id, "t"))
        await tx.users.update(replace(author, bio="never"))
        # no commit: everything rolls back

    assert await _counts(engine) == (0, 0, 0)
    async with uow.begin(read_only=True) as tx:
        user = await tx.users.get(author.id)
    assert user is not None
    assert user.bio == author.bio


async def test_an_article_and_its_outbox_row_commit_together(engine: AsyncEngine) -> None:
    uow, author = SqlAlchemyUnitOfWork(engine), a_user("author")
    async with uow.begin() as tx:
        await tx.users.add(author)
        await tx.commit()
    article = an_article(author.id, tags=("one",))

    async with uow.begin() as tx:
        await tx.articles.add(article)
        tx.record(ArticlePublished(article.slug, article.id, author.id, article.title))
    assert await _counts(engine) == (0, 0, 0)  # left without commit

    async with uow.begin() as tx:
        await tx.articles.add(article)
        tx.record(ArticlePublished(article.slug, article.id, author.id, article.title))
        await tx.commit()
    assert await _counts(engine) == (1, 1, 1)


async def test_a_taken_slug_and_a_missing_author_raise_their_domain_errors(
    engine: AsyncEngine,
) -> None:
    uow, author = SqlAlchemyUnitOfWork(engine), a_user("author")
    async with uow.begin() as tx:
        await tx.users.add(author)
        await tx.articles.add(an_article(author.id, slug="taken"))
        await tx.commit()

    async with uow.begin() as tx:
        with pytest.raises(SlugTaken):
            await tx.articles.add(an_article(author.id, slug="taken"))
        await tx.articles.add(an_article(author.id, slug="free"))  # the transaction goes on
        await tx.commit()
    with pytest.raises(UserNotFound):
        async with uow.begin() as tx:
            await tx.articles.add(an_article(a_user("gone").id, slug="orphan"))
    assert (await _counts(engine))[0] == 2


async def test_a_direct_write_whose_connection_died_is_unavailable(engine: AsyncEngine) -> None:
    uow, author = SqlAlchemyUnitOfWork(engine), a_user("author")
    async with uow.begin() as tx:
        await tx.users.add(author)
        await tx.commit()
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def publish_while_the_server_drops_the_connection() -> None:
        async with asyncio.timeout(10), uow.begin() as tx:
            await tx.articles.add(an_article(author.id, slug="first"))
            killer = await asyncpg.connect(url, timeout=5)
            try:
                await killer.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                    make_url(url).database,
                )
            finally:
                await killer.close()
            await asyncio.sleep(0.1)
            await tx.articles.add(an_article(author.id, slug="second"))
            await tx.commit()

    with pytest.raises(Unavailable):
        await publish_while_the_server_drops_the_connection()

    assert await _counts(engine) == (0, 0, 0)  # and the pool has replaced its connections
