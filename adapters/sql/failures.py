"""Why the database could not be reached or opened, in one line an operator can act on."""

from __future__ import annotations

import shlex
import socket
import sqlite3
from collections.abc import Iterator

import asyncpg
from sqlalchemy.engine import URL

DEFAULT_PORT = 5432


def explain_database_failure(exc: BaseException, url: URL) -> str | None:
    """One line naming the host, port and database (never the password) and what to do, for a
    failure to connect or of a database statement; None when `exc` is something else."""
    if url.get_backend_name() == "sqlite":
        return _sqlite(exc, url)
    return _postgres(exc, url)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then what it wraps: SQLAlchemy wraps the driver's error, which wraps asyncpg's."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _postgres(exc: BaseException, url: URL) -> str | None:
    host, port = url.host or "localhost", url.port or DEFAULT_PORT
    where = f"PostgreSQL at {host}:{port}"
    for cause in _causes(exc):
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            return (
                f'database "{url.database}" does not exist on {host}:{port}; '
                f"create it with: {_createdb(url, host, port)}"
            )
        if isinstance(
            cause,
            asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError,
        ):
            return (
                f"{where} refused the login: {_first_line(cause)} "
                "(check the user and password in DATABASE_URL)"
            )
        if isinstance(cause, ConnectionRefusedError):
            return (
                f"cannot connect to {where}: connection refused "
                "(is PostgreSQL running there? check the host and port in DATABASE_URL)"
            )
        if isinstance(cause, socket.gaierror):
            return f'cannot connect to PostgreSQL: host "{host}" not found (check DATABASE_URL)'
        if isinstance(cause, TimeoutError):
            return f"{where} did not answer in time (is the host reachable?)"
        if isinstance(cause, asyncpg.PostgresError):
            return f"{where}: {_first_line(cause)}"
        if isinstance(cause, ConnectionError) and "rejected SSL upgrade" in str(cause):
            return (
                f"{where} does not offer TLS, which the URL's sslmode requires "
                "(use sslmode=prefer or disable for a server without TLS)"
            )
        if isinstance(cause, OSError | asyncpg.InterfaceError):
            # Includes TLS failures: "rejected SSL upgrade", certificate verification.
            return f"cannot connect to {where}: {_first_line(cause)}"
    return None


def _createdb(url: URL, host: str, port: int) -> str:
    words = ["createdb", "-h", host, "-p", str(port)]
    if url.username:
        words += ["-U", url.username]
    words.append(url.database or "conduit")
    return shlex.join(words)


def _sqlite(exc: BaseException, url: URL) -> str | None:
    for cause in _causes(exc):
        if isinstance(cause, sqlite3.OperationalError) and "unable to open" in str(cause):
            return (
                f"cannot open the SQLite database {url.database}: {_first_line(cause)} "
                "(does its directory exist, and may this user write there?)"
            )
        if isinstance(cause, sqlite3.Error):
            return f"SQLite database {url.database}: {_first_line(cause)}"
    return None
