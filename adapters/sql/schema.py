"""The schema revision a database is at (Alembic's version table), against the code's."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

VERSION_TABLE = "alembic_version"
MIGRATE_COMMAND = "conduit migrate"


@dataclass(frozen=True, slots=True)
class Migrations:
    """What the code's migrations define: the head revision and every revision known."""

    head: str
    known: frozenset[str]


@dataclass(frozen=True, slots=True)
class SchemaRevision:
    """Where a database's schema stands against the code's migrations.

    `database` holds the revisions recorded in the database (empty: never migrated). A
    revision the code does not know was written by newer code: the schema is ahead (a
    rolling deploy migrates before the old processes stop), which the code can still serve.
    """

    database: tuple[str, ...]
    code: Migrations

    @property
    def at_head(self) -> bool:
        return self.database == (self.code.head,)

    @property
    def ahead(self) -> bool:
        return any(revision not in self.code.known for revision in self.database)

    @property
    def behind(self) -> bool:
        return not self.at_head and not self.ahead

    @property
    def database_text(self) -> str:
        return ", ".join(self.database) if self.database else "none"

    def describe(self) -> str:
        """Why, as a phrase after "schema": both revisions, no host and no credentials (it is
        shown by /health/ready), e.g. "is at revision 0001, behind the code's head 0002 ..."."""
        head = self.code.head
        if self.at_head:
            return f"is at the code's head revision {head}"
        where = "has no revision (never migrated)"
        if self.database:
            where = f"is at revision {self.database_text}"
        if self.ahead:
            return f"{where}, newer than the code's head {head} (migrated by newer code)"
        return f"{where}, behind the code's head {head}: run `{MIGRATE_COMMAND}`"


async def read_revisions(engine: AsyncEngine) -> tuple[str, ...]:
    """The revisions recorded in the database; empty when it was never migrated."""
    async with engine.connect() as connection:
        return await connection.run_sync(revisions_on)


def revisions_on(connection: Connection) -> tuple[str, ...]:
    """`read_revisions` within a (sync) connection, e.g. the one a migration runs in."""
    # Ask first instead of catching "no such table": on Postgres a failed statement would
    # abort the transaction, and an error could also be a lost connection, not a missing table.
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))  # noqa: S608
    return tuple(sorted(str(row[0]) for row in rows))


async def schema_revision(engine: AsyncEngine, migrations: Migrations) -> SchemaRevision:
    return SchemaRevision(await read_revisions(engine), migrations)
