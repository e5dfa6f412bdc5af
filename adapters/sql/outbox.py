"""The outbox in SQL: the commit path's one INSERT, and the relay's claim / mark / prune."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    DateTime,
    Select,
    String,
    bindparam,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql

from adapters.sql.engine import Statements, WriteConnection
from adapters.sql.tables import outbox
from core.shared.outbox import OutboxMessage, StoredMessage

_INSERT_OUTBOX = outbox.insert()
# Postgres, several messages: one INSERT whatever their number, the columns as arrays (no
# per-row executemany work), ids handed out in the messages' order.
_INSERT_OUTBOX_ROWS = text(
    """INSERT INTO outbox (topic, type, payload, created_at)
SELECT topic, type, payload, CAST(:at AS TIMESTAMP WITH TIME ZONE)
FROM unnest(CAST(:topics AS VARCHAR[]), CAST(:types AS VARCHAR[]), CAST(:payloads AS TEXT[]))
 WITH ORDINALITY AS message(topic, type, payload, n)
ORDER BY n"""
).bindparams(
    bindparam("at", type_=DateTime(timezone=True)),
    bindparam("topics", type_=postgresql.ARRAY(String())),
    bindparam("types", type_=postgresql.ARRAY(String())),
    bindparam("payloads", type_=postgresql.ARRAY(String())),
)


def outbox_columns(messages: Sequence[OutboxMessage], at: datetime) -> dict[str, Any]:
    """Postgres: messages as the parameters of a statement taking them as arrays (`at`,
    `topics`, `types`, `payloads`), in order."""
    return {
        "at": at,
        "topics": [m.topic for m in messages],
        "types": [m.type for m in messages],
        "payloads": [orjson.dumps(dict(m.payload)).decode() for m in messages],
    }


async def write_outbox(
    connection: Statements, messages: Sequence[OutboxMessage], now: datetime | None = None
) -> None:
    """A transaction's messages in one statement, whatever their number: the INSERT built once,
    its rows as executemany's parameters (one round trip on both drivers)."""
    if not messages:
        return
    at = now or datetime.now(UTC)
    if isinstance(connection, WriteConnection) or (
        len(messages) > 1 and connection.dialect.name == "postgresql"
    ):
        columns = outbox_columns(messages, at)
        if isinstance(connection, WriteConnection):  # straight to asyncpg, any count
            await connection.run(_INSERT_OUTBOX_ROWS, columns)
        else:
            await connection.execute(_INSERT_OUTBOX_ROWS, columns)
        return
    rows = [
        {
            "topic": m.topic,
            "type": m.type,
            "payload": orjson.dumps(dict(m.payload)).decode(),
            "created_at": at,
        }
        for m in messages
    ]
    await connection.execute(_INSERT_OUTBOX, rows)


def stored_from_row(row: Any) -> StoredMessage:
    payload = orjson.loads(row.payload)
    return StoredMessage(row.id, OutboxMessage(row.topic, row.type, payload), row.created_at)


_UNSENT = outbox.c.sent_at.is_(None)


def _claim_postgres() -> Select[Any]:
    """Postgres, one statement: lock up to `limit` unsent rows in id order, skipping those
    another relay holds (FOR UPDATE SKIP LOCKED: concurrent relays take disjoint batches,
    without waiting), and keep each topic in order: a row whose topic has an earlier unsent
    row we did not get (another relay's, its update not committed yet) waits until that one
    is sent. What it leaves stays locked until this transaction ends, as before."""
    locked = (
        select(outbox)
        .where(_UNSENT)
        .order_by(outbox.c.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
        .cte("locked")
    )
    earlier = outbox.alias("earlier")
    held = (
        select(earlier.c.id)
        .where(
            earlier.c.sent_at.is_(None),
            earlier.c.topic == locked.c.topic,
            earlier.c.id < locked.c.id,
            earlier.c.id.not_in(select(locked.c.id).scalar_subquery()),
        )
        .exists()
    )
    return select(locked).where(~held).order_by(locked.c.id)


_CLAIM_POSTGRES = _claim_postgres()
_MARK_SENT = (
    update(outbox)
    .where(outbox.c.id == func.any(bindparam("ids", type_=postgresql.ARRAY(BigInteger()))))
    .values(sent_at=bindparam("now", type_=outbox.c.sent_at.type))
)


class SqlOutboxRepository:
    def __init__(self, connection: Statements) -> None:
        self._connection = connection

    async def claim(self, limit: int) -> list[StoredMessage]:
        connection = self._connection
        if isinstance(connection, WriteConnection):  # the relay's hot path: straight to asyncpg
            found = await connection.run(_CLAIM_POSTGRES, {"limit": limit})
            return [stored_from_row(SimpleNamespace(**row)) for row in found]
        if connection.dialect.name == "postgresql":
            rows = await connection.execute(_CLAIM_POSTGRES, {"limit": limit})
            return [stored_from_row(row) for row in rows]
        # SQLite (BEGIN IMMEDIATE) and memory: one writer, so nobody else holds a row.
        query = select(outbox).where(_UNSENT).order_by(outbox.c.id).limit(limit)
        return [stored_from_row(row) for row in await connection.execute(query)]

    async def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        if not ids:
            return
        if self._connection.dialect.name == "postgresql":
            # One array parameter: the same statement (prepared once per connection) whatever
            # the batch's size, where IN (...) is new SQL text for each size.
            if isinstance(self._connection, WriteConnection):
                await self._connection.run(_MARK_SENT, {"ids": list(ids), "now": now})
            else:
                await self._connection.execute(_MARK_SENT, {"ids": list(ids), "now": now})
            return
        await self._connection.execute(
            update(outbox).where(outbox.c.id.in_(list(ids))).values(sent_at=now)
        )

    async def prune(self, sent_before: datetime) -> int:
        # Never the newest row: SQLite would hand its id out again, and a stream id repeated
        # reads as a message published twice (adapters.redis.streams).
        newest = select(func.max(outbox.c.id)).scalar_subquery()
        result = await self._connection.execute(
            delete(outbox).where(
                outbox.c.sent_at.is_not(None), outbox.c.sent_at < sent_before, outbox.c.id < newest
            )
        )
        return int(result.rowcount)
