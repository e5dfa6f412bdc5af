"""A read's pooled connection is checked out and returned without a greenlet when that needs no
I/O, and through SQLAlchemy's greenlet whenever it does (adapters/sql/engine.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, event, literal_column, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

import adapters.sql.engine as engine_module
from adapters.sql.engine import Reads, Writes, make_engine

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

_ONE: Select[tuple[int]] = select(literal_column("1").label("one"))


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(pg_url, pool_size=2)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function engine.py runs through `greenlet_spawn`."""
    seen: list[str] = []

    def counting(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Awaitable[Any]:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return greenlet_spawn(fn, *args, **kwargs)

    monkeypatch.setattr(engine_module, "greenlet_spawn", counting)
    return seen


@pytest.fixture
def events(engine: AsyncEngine) -> list[str]:
    """The pool's checkout and checkin events (what the metrics' in-use gauge counts)."""
    seen: list[str] = []
    pool = engine.sync_engine.pool
    event.listen(pool, "checkout", lambda *_: seen.append("checkout"))
    event.listen(pool, "checkin", lambda *_: seen.append("checkin"))
    return seen


async def _read(reads: Reads) -> None:
    async with reads.connect() as connection:
        assert await connection.rows(_ONE) == [{"one": 1}]


async def test_a_free_connection_goes_out_and_back_without_a_greenlet(
    engine: AsyncEngine, hops: list[str], events: list[str]
) -> None:
    reads = Reads(engine)
    await _read(reads)  # the pool opens its first connection: I/O, in a greenlet
    assert hops == ["connect"]
    pool: Any = engine.sync_engine.pool

    for _ in range(3):
        await _read(reads)

    assert hops == ["connect"]
    assert events == ["checkout", "checkin"] * 4  # the pool's events fire as before
    assert pool.checkedout() == 0
    assert pool.checkedin() == 1  # the same connection every time, back in the pool


async def test_a_connection_whose_server_went_away_is_replaced_in_a_greenlet(
    engine: AsyncEngine, hops: list[str]
) -> None:
    reads = Reads(engine)
    await _read(reads)
    raw: Any = engine.sync_engine.pool._pool.peek().dbapi_connection  # type: ignore[attr-defined]
    raw._connection.terminate()  # the socket is closed, as when the server dropped it
    assert raw._connection.is_closed()

    async with asyncio.timeout(10):
        await _read(reads)

    assert hops == ["connect", "connect"]


@pytest.mark.parametrize("reason", ["recycle", "invalidated", "soft-invalidated", "pre-ping"])
async def test_a_connection_needing_io_at_checkout_goes_through_a_greenlet(
    engine: AsyncEngine, hops: list[str], reason: str
) -> None:
    reads = Reads(engine)
    pool: Any = engine.sync_engine.pool
    await _read(reads)
    if reason == "recycle":
        pool._recycle = 0  # every pooled connection is past its age
        await asyncio.sleep(0.01)
    elif reason == "pre-ping":
        pool._pre_ping = True
    else:
        raw = await reads.raw_connection()
        await greenlet_spawn(raw.invalidate, None, reason == "soft-invalidated")
        if reason == "soft-invalidated":
            await reads.release(raw)  # soft: still open, back to the pool, swapped at checkout

    await _read(reads)

    assert hops == ["connect", "connect"]  # the first connection's opening, then this one
    assert pool.checkedout() == 0


async def test_a_connection_with_a_transaction_open_is_rolled_back_in_a_greenlet(
    engine: AsyncEngine, hops: list[str]
) -> None:
    reads = Reads(engine)
    raw: Any = await reads.raw_connection()
    await raw.dbapi_connection._start_transaction()
    assert raw.dbapi_connection._transaction is not None

    await reads.release(raw)

    assert hops == ["connect", "close"]
    raw = await reads.raw_connection()
    assert raw.dbapi_connection._transaction is None  # the pool's reset rolled it back
    assert not raw.driver_connection.is_in_transaction()
    await reads.release(raw)
    assert hops == ["connect", "close"]


async def test_a_reset_listener_keeps_the_greenlet(engine: AsyncEngine, hops: list[str]) -> None:
    resets: list[object] = []
    event.listen(engine.sync_engine.pool, "reset", lambda *args: resets.append(args[0]))
    reads = Reads(engine)
    await _read(reads)
    await _read(reads)

    assert hops == ["connect", "close", "close"]
    assert len(resets) == 2


async def test_a_committed_write_goes_back_without_a_greenlet_an_open_one_with_it(
    engine: AsyncEngine, hops: list[str]
) -> None:
    writes = Writes(engine)
    async with writes.connect() as connection:
        assert await connection.run(_ONE, {}) == [{"one": 1}]  # in a transaction
        await connection.commit()
    assert hops == ["connect"]  # the pool's first connection opening

    async with writes.connect() as connection:
        assert await connection.run(_ONE, {}) == [{"one": 1}]
    assert hops == ["connect", "close"]  # not committed: rolled back on the way back

    raw: Any = await writes.raw_connection()
    assert not raw.driver_connection.is_in_transaction()
    await writes.release(raw)


async def test_sqlite_keeps_its_greenlets(tmp_path: Path) -> None:
    sqlite = make_engine(f"sqlite+aiosqlite:///{tmp_path}/reads.db", pool_size=1)
    try:
        reads = Reads(sqlite)
        await _read(reads)
        await _read(reads)
        pool: Any = sqlite.sync_engine.pool
        assert pool.checkedout() == 0
        assert not reads._sync_pool
    finally:
        await sqlite.dispose()
