"""Contract fixtures: each port built over the `storage` backend (memory, SQLite, Postgres)."""

from __future__ import annotations

import pytest

from adapters.memory.queries import InMemoryArticleQueries, InMemoryProfileQueries
from adapters.memory.store import InMemoryUnitOfWork
from adapters.sql.engine import read_sessions, write_sessions
from adapters.sql.queries import SqlArticleQueries, SqlProfileQueries
from adapters.sql.uow import SqlAlchemyUnitOfWork
from core.articles.ports import ArticleQueries
from core.profiles.ports import ProfileQueries
from entrypoints.container import AppUnitOfWork
from tests.infra import Storage


@pytest.fixture
def uow(storage: Storage) -> AppUnitOfWork:
    if storage.infra.memory is not None:
        return InMemoryUnitOfWork(storage.infra.memory)
    assert storage.infra.engine is not None
    # As the container wires it: read-only transactions use plain (deferred) read sessions.
    engine = storage.infra.engine
    return SqlAlchemyUnitOfWork(write_sessions(engine), read_sessions(engine))


@pytest.fixture
def article_queries(storage: Storage) -> ArticleQueries:
    if storage.infra.memory is not None:
        return InMemoryArticleQueries(storage.infra.memory)
    assert storage.infra.engine is not None
    return SqlArticleQueries(read_sessions(storage.infra.engine))


@pytest.fixture
def profile_queries(storage: Storage) -> ProfileQueries:
    if storage.infra.memory is not None:
        return InMemoryProfileQueries(storage.infra.memory)
    assert storage.infra.engine is not None
    return SqlProfileQueries(read_sessions(storage.infra.engine))
