"""DATABASE_URL as operators write it -> the URL the engine opens, or one line saying why not.

Hosting providers hand out `postgres://` / `postgresql://` URLs with `?sslmode=...`; SQLAlchemy
maps those schemes to psycopg (not installed) and asyncpg takes no `sslmode` keyword. Both are
rewritten here, once, when Settings are read. Messages never repeat the URL: it may hold a
password.
"""

from __future__ import annotations

import difflib
import re

from sqlalchemy.engine import URL, make_url

MEMORY_URL = "memory://"
POSTGRES_DRIVER = "postgresql+asyncpg"
SQLITE_DRIVER = "sqlite+aiosqlite"
_POSTGRES_SCHEMES = ("postgresql", "postgres", POSTGRES_DRIVER)
_SQLITE_SCHEMES = ("sqlite", SQLITE_DRIVER)
_KNOWN_SCHEMES = (*_POSTGRES_SCHEMES, *_SQLITE_SCHEMES, "memory")
# asyncpg's `ssl` argument takes libpq's sslmode names (asyncpg.connect documents each).
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# SQLAlchemy hands every query parameter to asyncpg.connect() as a string keyword argument:
# only those asyncpg accepts as a string may stay (an unknown one is a TypeError at the first
# connection, a numeric one a TypeError later). prepared_statement_cache_size is SQLAlchemy's
# own and converted by it.
_POSTGRES_QUERY = frozenset(
    {"ssl", "prepared_statement_cache_size", "target_session_attrs", "passfile", "krbsrvname"}
)
# libpq options asyncpg reads from the environment instead of the URL.
_FROM_ENVIRONMENT = {
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
FORMS = "postgresql://user:password@host:5432/name, sqlite:///path/to/file.db or memory://"


def normalise_database_url(raw: str) -> str:
    """The URL for `make_engine`: `postgresql+asyncpg://...` with `ssl=<mode>`,
    `sqlite+aiosqlite:///path`, or `memory://`. Raises ValueError (one line, no password)."""
    url = raw.strip()
    if url == MEMORY_URL:
        return url
    match = _SCHEME.match(url)
    if match is None:
        raise ValueError(f"not a database URL; expected {FORMS}")
    scheme = match.group(1).lower()
    if scheme == "memory":
        raise ValueError(f"write memory:// alone (nothing after it); or use {FORMS}")
    if scheme not in _KNOWN_SCHEMES:
        raise ValueError(_unsupported(scheme))
    try:
        parsed = make_url(url)
    except Exception:  # any parse failure; its text could quote the URL
        raise ValueError(f"cannot parse this {scheme}:// URL; expected {FORMS}") from None
    if scheme in _SQLITE_SCHEMES:
        return _sqlite(parsed)
    return _postgres(parsed)


def _unsupported(scheme: str) -> str:
    base, plus, driver = scheme.partition("+")
    if plus and base in ("postgresql", "postgres", "sqlite"):
        wanted = "asyncpg" if base.startswith("postgres") else "aiosqlite"
        return (
            f'unsupported driver "{driver}" in "{scheme}://": Conduit uses {wanted}; '
            f"write {base}:// without a driver"
        )
    close = difflib.get_close_matches(scheme, _KNOWN_SCHEMES, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}://?)" if close else ""
    return f'unsupported scheme "{scheme}://"{hint}; use {FORMS}'


def _sqlite(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise ValueError(
            "sqlite:// needs a file path, e.g. sqlite:///./conduit.db "
            "(for a database that keeps nothing use memory://)"
        )
    return url.set(drivername=SQLITE_DRIVER).render_as_string(hide_password=False)


def _postgres(url: URL) -> str:
    query = dict(url.query)
    sslmode = query.pop("sslmode", None)
    if sslmode is not None:
        if "ssl" in query:
            raise ValueError("give either sslmode or ssl in the query, not both")
        query["ssl"] = sslmode
    for name, value in query.items():
        if name in _FROM_ENVIRONMENT:
            raise ValueError(
                f'query parameter "{name}" is not read by the asyncpg driver; '
                f"set {_FROM_ENVIRONMENT[name]} in the environment instead"
            )
        if name not in _POSTGRES_QUERY:
            raise ValueError(
                f'query parameter "{name}" is not supported by the asyncpg driver; remove it'
            )
        if name == "ssl" and value not in SSL_MODES:
            shown = value if isinstance(value, str) else ",".join(value)
            raise ValueError(f'SSL mode "{shown}" is not one of {", ".join(SSL_MODES)}')
    normalised = url.set(drivername=POSTGRES_DRIVER, query=query)
    return normalised.render_as_string(hide_password=False)
