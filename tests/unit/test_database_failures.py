"""A database that cannot be reached or opened is explained in one line, without the password."""

from __future__ import annotations

import socket
import sqlite3

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from adapters.sql.failures import explain_database_failure

PASSWORD = "s3cret-pw"
URL = make_url(f"postgresql+asyncpg://app:{PASSWORD}@db.internal:6432/conduit")


def wrapped(cause: BaseException) -> BaseException:
    """As SQLAlchemy raises it: its error, from the driver's, from asyncpg's."""
    try:
        try:
            raise cause
        except BaseException as exc:
            raise RuntimeError("(driver error)") from exc
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        (
            asyncpg.InvalidCatalogNameError('database "conduit" does not exist'),
            'database "conduit" does not exist on db.internal:6432; '
            "create it with: createdb -h db.internal -p 6432 -U app conduit",
        ),
        (
            asyncpg.InvalidPasswordError('password authentication failed for user "app"'),
            "PostgreSQL at db.internal:6432 refused the login: password authentication failed",
        ),
        (
            asyncpg.InvalidAuthorizationSpecificationError('role "app" does not exist'),
            'refused the login: role "app" does not exist',
        ),
        (
            ConnectionRefusedError(111, "Connect call failed"),
            "cannot connect to PostgreSQL at db.internal:6432: connection refused",
        ),
        (socket.gaierror(-2, "Name or service not known"), 'host "db.internal" not found'),
        (TimeoutError(), "PostgreSQL at db.internal:6432 did not answer in time"),
        (
            ConnectionError('PostgreSQL server at "db.internal:6432" rejected SSL upgrade'),
            "does not offer TLS, which the URL's sslmode requires",
        ),
    ],
)
def test_each_postgres_failure_is_named_with_what_to_do(
    cause: BaseException, expected: str
) -> None:
    line = explain_database_failure(wrapped(cause), URL)

    assert line is not None
    assert expected in line
    assert "\n" not in line
    assert PASSWORD not in line


def test_a_sqlite_file_that_cannot_be_opened_names_the_path() -> None:
    url = make_url("sqlite+aiosqlite:////no/such/dir/c.db")

    line = explain_database_failure(
        wrapped(sqlite3.OperationalError("unable to open database file")), url
    )

    assert line is not None
    assert line.startswith("cannot open the SQLite database /no/such/dir/c.db")


def test_an_unrelated_error_is_not_explained() -> None:
    assert explain_database_failure(ValueError("bug"), URL) is None
