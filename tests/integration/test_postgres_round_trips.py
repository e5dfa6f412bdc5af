"""Postgres round trips per request, and what a connection the server dropped costs.

Statement counts (tests/api/test_queries.py) cannot see transaction control or pings: asyncpg
sends BEGIN, COMMIT and a checkout's `;` outside SQLAlchemy's cursor events. Here every message
asyncpg's protocol sends (a simple query, a prepare, a bind-and-execute) is counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
import pytest
from sqlalchemy import Select, event, literal_column, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import Reads
from adapters.sql.uow import SqlAlchemyUnitOfWork
from core.shared.errors import Unavailable
from core.shared.events import UserFollowed
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.api.helpers import Account, publish, register
from tests.builders import a_user
from tests.fakes.clock import TickingClock
from tests.infra import Storage, open_storage

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

# The protocol calls that each cost one round trip to the server.
ROUND_TRIPS = {"query", "prepare", "bind_execute", "bind_execute_many", "bind", "execute"}
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", ";")


class CountingProtocol:
    """asyncpg's protocol object, recording the round trips made through it."""

    def __init__(self, real: Any, log: list[str]) -> None:
        self.__dict__.update(_real=real, _log=log)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if name not in ROUND_TRIPS:
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            # query(sql, ...) sends text; prepare(name, sql, ...) a statement; the others run one.
            sql = args[0] if name == "query" else args[1] if name == "prepare" else ""
            self._log.append(f"{name} {str(sql).strip()}".strip())
            return attr(*args, **kwargs)

        return counted

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._real, name, value)


@contextmanager
def round_trips(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every round trip to Postgres on `engine`'s connections inside the block."""
    log: list[str] = []

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        raw = dbapi_connection._connection
        if not isinstance(raw._protocol, CountingProtocol):
            raw._protocol = CountingProtocol(raw._protocol, log)
        raw._protocol.__dict__["_log"] = log

    event.listen(engine.sync_engine, "checkout", on_checkout)
    try:
        yield log
    finally:
        event.remove(engine.sync_engine, "checkout", on_checkout)


@pytest.fixture
async def pg_storage(tmp_path: Path, pg_url: str) -> AsyncIterator[Storage]:
    async with open_storage("postgres", tmp_dir=str(tmp_path), pg_url=pg_url) as storage:
        yield storage


@pytest.fixture
def engine(pg_storage: Storage) -> AsyncEngine:
    assert pg_storage.engine is not None
    return pg_storage.engine


@pytest.fixture
async def client(
    settings: Settings, pg_storage: Storage, clock: TickingClock
) -> AsyncIterator[httpx2.AsyncClient]:
    app = create_app(settings, container=build_container(settings, pg_storage.infra, clock=clock))
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def _trips(
    client: httpx2.AsyncClient, engine: AsyncEngine, path: str, viewer: Account | None = None
) -> list[str]:
    headers = viewer.auth if viewer else {}
    for _ in range(2):  # warm: the pool's connection has prepared these statements
        assert (await client.get(path, headers=headers)).status_code == 200
    with round_trips(engine) as log:
        response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return log


async def test_an_anonymous_read_is_one_round_trip_per_statement(
    client: httpx2.AsyncClient, engine: AsyncEngine
) -> None:
    author = await register(client, "author")
    slug = (await publish(client, author, "Counted", tags=["one"]))["slug"]

    assert await _trips(client, engine, "/api/tags") == ["bind_execute"]
    # the article with its author, counts and tags
    assert await _trips(client, engine, f"/api/articles/{slug}") == ["bind_execute"]
    # the page with its total and its articles' tags
    assert await _trips(client, engine, "/api/articles") == ["bind_execute"]


async def test_an_authenticated_read_adds_one_round_trip_for_the_caller(
    client: httpx2.AsyncClient, engine: AsyncEngine
) -> None:
    reader = await register(client, "reader")
    await publish(client, reader, "Counted", tags=["one"])

    log = await _trips(client, engine, "/api/articles", reader)

    assert log == ["bind_execute"] * 2
    assert await _trips(client, engine, "/api/user", reader) == ["bind_execute"] * 2


async def test_a_write_sends_begin_and_commit_once(
    client: httpx2.AsyncClient, engine: AsyncEngine
) -> None:
    writer = await register(client, "writer")
    await publish(client, writer, "Warm", tags=["one"])

    with round_trips(engine) as log:
        await publish(client, writer, "Counted", tags=["one", "two"])

    # "BEGIN;", or "BEGIN ISOLATION LEVEL READ COMMITTED;" on a connection whose level
    # SQLAlchemy once set and reset: the server's default either way.
    control = [trip.split()[1].rstrip(";") for trip in log if trip.startswith("query")]
    assert control == ["BEGIN", "COMMIT"], log


# --- a connection the server dropped -------------------------------------------------------


async def _kill_backends(engine: AsyncEngine) -> int:
    """pg_terminate_backend on every connection to this test's database but the killer's."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    killer = await asyncpg.connect(url, timeout=5)
    try:
        killed = await killer.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            make_url(url).database,
        )
    finally:
        await killer.close()
    return int(killed)


async def test_requests_after_the_server_dropped_every_connection_succeed(
    client: httpx2.AsyncClient, engine: AsyncEngine
) -> None:
    writer = await register(client, "writer")
    slug = (await publish(client, writer, "Before", tags=["one"]))["slug"]
    assert await _kill_backends(engine) >= 1

    async with asyncio.timeout(10):  # never a hang
        read = await client.get(f"/api/articles/{slug}", headers=writer.auth)
        written = await client.post(
            "/api/articles",
            json={"article": {"title": "After", "description": "d", "body": "b"}},
            headers=writer.auth,
        )

    assert read.status_code == 200, read.text
    assert written.status_code == 201, written.text


async def test_a_read_reruns_a_statement_whose_connection_died_in_use(engine: AsyncEngine) -> None:
    reads = Reads(engine)
    async with reads.connect() as connection:
        assert (await connection.execute(text("SELECT 1"))).scalar() == 1
        assert await _kill_backends(engine) == 1
        await asyncio.sleep(0.1)  # the server's goodbye arrives on the checked-out connection

        async with asyncio.timeout(10):
            assert (await connection.execute(text("SELECT 2"))).scalar() == 2


async def test_a_write_whose_connection_died_in_use_is_unavailable(engine: AsyncEngine) -> None:
    uow, jake = SqlAlchemyUnitOfWork(engine), a_user("jake")

    async def register_while_the_server_drops_the_connection() -> None:
        async with asyncio.timeout(10), uow.begin() as tx:
            await tx.users.get(jake.id)
            assert await _kill_backends(engine) == 1
            await asyncio.sleep(0.1)
            await tx.users.add(jake)
            await tx.commit()

    with pytest.raises(Unavailable):
        await register_while_the_server_drops_the_connection()

    async with uow.begin() as tx:  # the pool has replaced its connections
        assert await tx.users.get(jake.id) is None


_ONE: Select[tuple[int]] = select(literal_column("1").label("one"))
_TWO: Select[tuple[int]] = select(literal_column("2").label("two"))


async def test_a_driver_read_reruns_a_statement_whose_connection_died_in_use(
    engine: AsyncEngine,
) -> None:
    reads = Reads(engine)
    assert reads.direct()  # nothing listens to the engine's cursor events here
    async with reads.connect() as connection:
        assert await connection.rows(_ONE) == [{"one": 1}]
        assert await _kill_backends(engine) == 1
        await asyncio.sleep(0.1)  # the server's goodbye arrives on the held connection

        async with asyncio.timeout(10):
            assert await connection.rows(_TWO) == [{"two": 2}]


async def test_driver_reads_give_way_to_cursor_listeners(engine: AsyncEngine) -> None:
    """Statement counters and tracing listen to cursor events: with a listener, rows() runs
    through SQLAlchemy, so the listener sees the statement."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    reads = Reads(engine)
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        assert not reads.direct()
        async with reads.connect() as connection:
            assert await connection.rows(_ONE) == [{"one": 1}]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert reads.direct()
    assert [s.split()[0] for s in seen] == ["SELECT"]


async def test_publishing_an_article_writes_it_and_its_tags_in_one_round_trip(
    client: httpx2.AsyncClient, engine: AsyncEngine
) -> None:
    writer = await register(client, "writer")
    await publish(client, writer, "Warm", tags=["one"])

    with round_trips(engine) as log:
        article = await publish(client, writer, "Counted", tags=["one", "two"])

    assert article["tagList"] == ["one", "two"]
    writes = [trip for trip in log if not trip.startswith("query")]
    # The caller, then the article with its tags, its outbox row and its author's profile
    # (one statement); no read back (the answer is built from what was written).
    assert writes == ["bind_execute"] * 2, log


async def test_a_relay_claim_is_one_statement(pg_storage: Storage, engine: AsyncEngine) -> None:
    uow = pg_storage.infra.storage.adapters(listeners=()).uow
    followee = a_user("followee")
    async with uow.begin() as tx:
        await tx.users.add(followee)
        tx.record(UserFollowed(a_user("follower").id, followee.id))
        tx.record(UserFollowed(a_user("other").id, followee.id))
        await tx.commit()

    with round_trips(engine) as log:
        async with uow.begin() as tx:
            claimed = await tx.outbox.claim(10)

    assert [m.message.type for m in claimed] == ["user.followed"] * 2
    # Locking the batch and keeping each topic in order: one statement (two before).
    assert [trip for trip in log if trip.startswith("bind")] == ["bind_execute"], log


async def test_outbox_writes_and_marks_are_one_prepared_statement_whatever_the_count(
    pg_storage: Storage, engine: AsyncEngine
) -> None:
    uow = pg_storage.infra.storage.adapters(listeners=()).uow
    followee = a_user("followee")
    async with uow.begin() as tx:
        await tx.users.add(followee)
        await tx.commit()
    trips: dict[int, tuple[list[str], list[str]]] = {}
    for count in (2, 3, 4):  # 2 warms the connection up (statements and array types)
        with round_trips(engine) as log:
            async with uow.begin() as tx:
                for _ in range(count):
                    tx.record(UserFollowed(a_user("follower").id, followee.id))
                await tx.commit()
            written = [t for t in log if not t.startswith("query")]
        with round_trips(engine) as log:
            async with uow.begin() as tx:
                claimed = await tx.outbox.claim(10)
                claiming = len(log)
                await tx.outbox.mark_sent([m.id for m in claimed], claimed[0].created_at)
                marked = log[claiming:]
                await tx.commit()
        assert len(claimed) == count
        trips[count] = written, marked

    # The rows as arrays in one statement (no executemany), and one UPDATE text for any
    # number of ids (IN (...) was new text, so a new prepare, for each count).
    assert trips[3] == trips[4] == (["bind_execute"], ["bind_execute"]), trips


async def test_records_are_read_by_label_on_either_path(engine: AsyncEngine) -> None:
    """records(): asyncpg's Records as they come on the direct path, rows() dicts with a
    cursor listener; a page's code reads both by label."""
    reads = Reads(engine)
    async with reads.connect() as connection:
        direct = await connection.records(_ONE)
    event.listen(engine.sync_engine, "before_cursor_execute", _ignore)
    try:
        async with reads.connect() as connection:
            through = await connection.records(_ONE)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", _ignore)

    assert not isinstance(direct[0], dict)
    assert direct[0]["one"] == 1
    assert through == [{"one": 1}]


def _ignore(*_: Any) -> None:
    pass


async def test_a_read_connection_goes_back_to_the_pool_whatever_happens_inside(
    engine: AsyncEngine,
) -> None:
    reads = Reads(engine)
    pool: Any = engine.sync_engine.pool
    checked_out = []

    async def fail_inside() -> None:
        async with reads.connect() as connection:
            assert await connection.rows(_ONE) == [{"one": 1}]
            checked_out.append(pool.checkedout())
            raise LookupError("inside")

    with pytest.raises(LookupError):
        await fail_inside()

    assert checked_out == [1]
    assert pool.checkedout() == 0
