"""A database that cannot be reached answers Unavailable (503): a write unit, a read unit, and
the read side's statements run straight on the driver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import make_engine
from adapters.sql.queries import SqlArticleQueries
from adapters.sql.uow import SqlAlchemyUnitOfWork
from core.shared.errors import Unavailable

CLOSED_PORT = 1  # nothing listens there: connection refused at once


@pytest.fixture
async def unreachable() -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{CLOSED_PORT}/x")
    yield engine
    await engine.dispose()


async def test_a_write_unit_answers_unavailable(unreachable: AsyncEngine) -> None:
    uow = SqlAlchemyUnitOfWork(unreachable)

    with pytest.raises(Unavailable):
        async with uow.begin():
            pass


async def test_a_read_unit_answers_unavailable(unreachable: AsyncEngine) -> None:
    uow = SqlAlchemyUnitOfWork(unreachable)

    with pytest.raises(Unavailable):
        async with uow.begin(read_only=True) as tx:
            await tx.articles.get_by_slug("any")


async def test_a_read_straight_on_the_driver_answers_unavailable(
    unreachable: AsyncEngine,
) -> None:
    with pytest.raises(Unavailable):
        await SqlArticleQueries(unreachable).get_article("any", None)
