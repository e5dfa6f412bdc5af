"""The storage registry: DATABASE_URL's scheme picks exactly one backend, and every backend
runs the test suites."""

from __future__ import annotations

import pytest

from entrypoints.settings import Settings
from entrypoints.storage.memory import MemoryStorage
from entrypoints.storage.postgres import PostgresStorage
from entrypoints.storage.registry import BACKENDS, backend_for
from entrypoints.storage.sqlite import SqliteStorage
from tests.infra import STORAGE_SETUPS


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("memory://", MemoryStorage),
        ("sqlite:///./conduit.db", SqliteStorage),
        ("postgres://app@db:5432/conduit", PostgresStorage),
        ("postgresql://app@db/conduit?sslmode=require", PostgresStorage),
    ],
)
def test_the_normalised_url_picks_its_backend(url: str, backend: type[object]) -> None:
    assert backend_for(Settings(database_url=url).database_url) is backend


def test_a_scheme_no_backend_serves_is_refused() -> None:
    with pytest.raises(ValueError, match=r'no storage backend serves "mysql\+aiomysql://"'):
        backend_for("mysql+aiomysql://app@db/conduit")


def test_each_scheme_and_name_belongs_to_one_backend() -> None:
    schemes = [scheme for backend in BACKENDS for scheme in backend.schemes]
    names = [backend.name for backend in BACKENDS]

    assert len(set(schemes)) == len(schemes)
    assert len(set(names)) == len(names)


def test_the_tests_know_how_to_open_every_backend() -> None:
    assert set(STORAGE_SETUPS) == {backend.name for backend in BACKENDS}


def test_only_memory_storage_keeps_nothing() -> None:
    assert [backend.name for backend in BACKENDS if not backend.keeps_data] == ["memory"]
