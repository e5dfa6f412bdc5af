"""SQLite: a process's write transactions take turns in the event loop (adapters.sql.uow.
WriterQueue), not in SQLite's busy handler, and a turn ends at COMMIT."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.uow import SqlAlchemyUnitOfWork
from core.shared.events import DomainEvent, UserFollowed
from tests.builders import a_user
from tests.infra import Storage, open_storage

pytestmark = [pytest.mark.integration]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with open_storage("sqlite", tmp_dir=str(tmp_path), pg_url="") as storage:
        assert isinstance(storage, Storage)
        assert storage.engine is not None
        yield storage.engine


async def test_write_transactions_take_turns_in_arrival_order(engine: AsyncEngine) -> None:
    uow, steps = SqlAlchemyUnitOfWork(engine), list[str]()

    async def write(name: str, hold_s: float) -> None:
        async with uow.begin() as tx:  # nothing sent yet: only the turn orders them
            steps.append(f"{name} begins")
            await asyncio.sleep(hold_s)
            await tx.users.add(a_user(name))
            await tx.commit()
            steps.append(f"{name} committed")

    async with asyncio.timeout(10):
        await asyncio.gather(write("first", 0.05), write("second", 0), write("third", 0))

    assert steps == [
        "first begins",
        "first committed",
        "second begins",
        "second committed",
        "third begins",
        "third committed",
    ]


async def test_a_turn_ends_at_commit_so_a_commit_listener_may_write(engine: AsyncEngine) -> None:
    written: list[str] = []

    class WritesOnCommit:
        async def committed(self, events: Sequence[DomainEvent]) -> None:
            async with plain.begin() as tx:  # while the first block has not ended yet
                await tx.users.add(a_user("listener"))
                await tx.commit()
            written.append("listener")

    plain = SqlAlchemyUnitOfWork(engine)  # the same database's queue as `uow`'s
    uow = SqlAlchemyUnitOfWork(engine, listeners=[WritesOnCommit()])

    async with asyncio.timeout(10), uow.begin() as tx:
        await tx.users.add(a_user("writer"))
        tx.record(UserFollowed(a_user("a").id, a_user("b").id))
        await tx.commit()

    assert written == ["listener"]
