"""The storage backends by URL scheme: the one switch that picks the storage.

Adding a backend is one module in this package and one line in BACKENDS. Its class follows
StorageBackend (backend.py): `name`, the `schemes` it serves (as normalise_database_url
writes them; a new scheme must also pass that function), `keeps_data`; `open`/`close` for its
clients, migrating or checking its schema at start; `adapters` (unit of work, article and
profile queries, user directory) and `health_checks` for the container; `prepare`,
`migrate_schema` and `upgrade_schema` for the CLI. The test suites run on every backend
listed here (tests/infra.py: STORAGE_SETUPS says where a test's data lives).
"""

from __future__ import annotations

from entrypoints.storage.backend import StorageBackend
from entrypoints.storage.memory import MemoryStorage
from entrypoints.storage.postgres import PostgresStorage
from entrypoints.storage.sqlite import SqliteStorage

BACKENDS: tuple[type[StorageBackend], ...] = (MemoryStorage, SqliteStorage, PostgresStorage)

_BY_SCHEME: dict[str, type[StorageBackend]] = {
    scheme: backend for backend in BACKENDS for scheme in backend.schemes
}


def backend_for(url: str) -> type[StorageBackend]:
    """The backend serving a (normalised) DATABASE_URL, by its scheme."""
    scheme = url.partition("://")[0].lower()
    try:
        return _BY_SCHEME[scheme]
    except KeyError:
        raise ValueError(f'no storage backend serves "{scheme}://" URLs') from None
