"""Renaming an account from the command line (`conduit users rename`), at any schema
revision: also before migration 0003, whose upgrade stops on usernames that would clash and
asks the operator to rename the newer accounts with this."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.constraints import domain_error_for
from adapters.sql.engine import write_engine
from adapters.sql.tables import users
from core.shared.errors import DomainError
from core.users.errors import UsernameLookalike, UsernameTaken, UserNotFound
from core.users.model import username_key, username_of, username_skeleton


def _has_username_keys(connection: Connection) -> bool:
    return "username_key" in {column["name"] for column in inspect(connection).get_columns("users")}


async def rename_user(engine: AsyncEngine, old: str, new: str) -> str:
    """Give the account named exactly `old` the username `new`, and return it as stored.

    `new` obeys the registration rules (UsernameTaken, UsernameLookalike or InvalidInput
    otherwise); `old` is matched exactly, as two accounts may still differ only in case
    before migration 0003. The account keeps its id, email, password and content. Cached
    pages may show the old name until they expire (CACHE_TTL_S).
    """
    new = username_of(new)
    key, skeleton = username_key(new), username_skeleton(new)
    async with write_engine(engine).begin() as connection:
        keyed = await connection.run_sync(_has_username_keys)
        found = await connection.execute(
            select(users.c.id, users.c.username).where(users.c.username == old)
        )
        row = found.one_or_none()
        if row is None:
            raise UserNotFound()
        values: dict[str, object] = {"username": new, "updated_at": datetime.now(UTC)}
        if keyed:
            values |= {"username_key": key, "username_skeleton": skeleton}
            others = select(users.c.username).where(
                or_(users.c.username_key == key, users.c.username_skeleton == skeleton),
                users.c.id != row.id,
            )
        else:  # before 0003 no column holds them: every other name is compared here
            others = select(users.c.username).where(users.c.id != row.id)
        for (other,) in await connection.execute(others):
            if username_key(other) == key:
                raise UsernameTaken()
            if username_skeleton(other) == skeleton:
                raise UsernameLookalike()
        try:
            await connection.execute(update(users).where(users.c.id == row.id).values(values))
        except IntegrityError as exc:  # taken meanwhile
            error: DomainError | None = domain_error_for(exc)
            if error is None:
                raise
            raise error from exc
    return new
