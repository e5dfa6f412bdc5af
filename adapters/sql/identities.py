"""The identities context on SQL: linked identities, and the one-time store of sign-ins."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import (
    Statements,
    connection_to,
    unavailable_on_disconnect,
    write_engine,
)
from adapters.sql.repositories import execute_mapped
from adapters.sql.tables import oidc_one_time, user_identities
from core.identities.model import Identity
from core.shared.ids import UserId


def _identity(row: Row[tuple[object, ...]]) -> Identity:
    m = row._mapping
    return Identity(
        m["id"],
        UserId(m["user_id"]),
        m["provider"],
        m["issuer"],
        m["subject"],
        m["email"],
        m["created_at"],
    )


class SqlIdentityRepository:
    def __init__(self, connection: Statements) -> None:
        self._connection = connection

    async def add(self, identity: Identity) -> None:
        # Linked meanwhile by another sign-in: uq_user_identities_issuer_subject, IdentityTaken.
        await execute_mapped(
            self._connection,
            insert(user_identities).values(
                id=identity.id,
                user_id=identity.user_id,
                provider=identity.provider,
                issuer=identity.issuer,
                subject=identity.subject,
                email=identity.email,
                created_at=identity.created_at,
            ),
        )

    async def get(self, issuer: str, subject: str) -> Identity | None:
        row = (
            await self._connection.execute(
                select(user_identities).where(
                    user_identities.c.issuer == issuer, user_identities.c.subject == subject
                )
            )
        ).one_or_none()
        return None if row is None else _identity(row)

    async def list_for_user(self, user_id: UserId) -> list[Identity]:
        rows = await self._connection.execute(
            select(user_identities)
            .where(user_identities.c.user_id == user_id)
            .order_by(user_identities.c.created_at, user_identities.c.id)
        )
        return [_identity(row) for row in rows]

    async def delete(self, user_id: UserId, identity_id: uuid.UUID) -> bool:
        result = await self._connection.execute(
            delete(user_identities).where(
                user_identities.c.id == identity_id, user_identities.c.user_id == user_id
            )
        )
        return bool(getattr(result, "rowcount", 0) == 1)


class SqlOneTimeStore:
    """OneTimeStore on the database, each call its own short transaction (not the caller's:
    a state must be consumed even when the sign-in then fails). `take` is one
    DELETE ... RETURNING: of two concurrent takes, one deletes the row, the other finds none.
    Expired rows are pruned by `put`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = write_engine(engine)

    async def put(self, key: str, value: str, *, ttl: timedelta, now: datetime) -> None:
        async with unavailable_on_disconnect(), connection_to(self._engine) as connection:
            await connection.execute(delete(oidc_one_time).where(oidc_one_time.c.expires_at <= now))
            await connection.execute(
                insert(oidc_one_time).values(key=key, value=value, expires_at=now + ttl)
            )
            await connection.commit()

    async def take(self, key: str, *, now: datetime) -> str | None:
        async with unavailable_on_disconnect(), connection_to(self._engine) as connection:
            row = (
                await connection.execute(
                    delete(oidc_one_time)
                    .where(oidc_one_time.c.key == key)
                    .returning(oidc_one_time.c.value, oidc_one_time.c.expires_at)
                )
            ).one_or_none()
            await connection.commit()
        if row is None or row.expires_at <= now:
            return None
        return str(row.value)
