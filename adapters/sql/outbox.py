"""The outbox in SQL: the commit path's one INSERT, and the relay's claim / mark / prune."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import delete, func, select, update

from adapters.sql.engine import Statements
from adapters.sql.tables import outbox
from core.shared.outbox import OutboxMessage, StoredMessage

_INSERT_OUTBOX = outbox.insert()


async def write_outbox(
    connection: Statements, messages: Sequence[OutboxMessage], now: datetime | None = None
) -> None:
    """A transaction's messages in one statement, whatever their number: the INSERT built once,
    its rows as executemany's parameters (one round trip on both drivers)."""
    if not messages:
        return
    at = now or datetime.now(UTC)
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


class SqlOutboxRepository:
    def __init__(self, connection: Statements) -> None:
        self._connection = connection

    async def claim(self, limit: int) -> list[StoredMessage]:
        connection = self._connection
        query = select(outbox).where(_UNSENT).order_by(outbox.c.id).limit(limit)
        postgres = connection.dialect.name == "postgresql"
        if postgres:  # concurrent relays take disjoint batches, without waiting
            query = query.with_for_update(skip_locked=True)
        # SQLite (BEGIN IMMEDIATE) and memory: one writer, so nobody else holds a row.
        claimed = [stored_from_row(row) for row in await connection.execute(query)]
        if not postgres or not claimed:
            return claimed
        # Keep each topic in order: an earlier unsent row we did not get is another relay's
        # (locked; its update not committed yet), so our later rows of that topic wait until
        # it is sent. Rows past our limit have larger ids than all of ours and do not matter.
        ids = [m.id for m in claimed]
        held = select(outbox.c.topic, func.min(outbox.c.id).label("first")).where(
            _UNSENT,
            outbox.c.topic.in_({m.message.topic for m in claimed}),
            outbox.c.id.not_in(ids),
            outbox.c.id < max(ids),
        )
        rows = await connection.execute(held.group_by(outbox.c.topic))
        first_held = {row.topic: row.first for row in rows}
        return [m for m in claimed if m.id < first_held.get(m.message.topic, m.id + 1)]

    async def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        if ids:
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
