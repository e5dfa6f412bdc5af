"""Contract fixtures: each port as the `storage` backend provides it (memory, SQLite, Postgres)."""

from __future__ import annotations

import pytest

from core.articles.ports import ArticleQueries
from core.profiles.ports import ProfileQueries
from entrypoints.container import AppUnitOfWork
from entrypoints.storage.backend import StorageAdapters
from tests.infra import Storage


@pytest.fixture
def storage_adapters(storage: Storage) -> StorageAdapters:
    # As the container wires them, without commit listeners (no cache to invalidate).
    return storage.infra.storage.adapters(listeners=())


@pytest.fixture
def uow(storage_adapters: StorageAdapters) -> AppUnitOfWork:
    return storage_adapters.uow


@pytest.fixture
def article_queries(storage_adapters: StorageAdapters) -> ArticleQueries:
    return storage_adapters.articles


@pytest.fixture
def profile_queries(storage_adapters: StorageAdapters) -> ProfileQueries:
    return storage_adapters.profiles
