"""SqlAlchemyUnitOfWork: one AsyncSession per transaction; commit is the only commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sql.auth_repositories import SqlApiKeyRepository, SqlRefreshTokenRepository
from adapters.sql.constraints import domain_error_for
from adapters.sql.repositories import (
    SqlArticleRepository,
    SqlCommentRepository,
    SqlFavoriteRepository,
    SqlFollowRepository,
    SqlUserRepository,
)
from core.shared.events import CommitListener, DomainEvent, notify


class SqlAlchemyTransaction:
    def __init__(
        self,
        session: AsyncSession,
        *,
        read_only: bool = False,
        listeners: Sequence[CommitListener] = (),
    ) -> None:
        self._session = session
        self._read_only = read_only
        self._listeners = listeners
        self._events: list[DomainEvent] = []
        self.users = SqlUserRepository(session)
        self.follows = SqlFollowRepository(session)
        self.articles = SqlArticleRepository(session)
        self.comments = SqlCommentRepository(session)
        self.favorites = SqlFavoriteRepository(session)
        self.refresh_tokens = SqlRefreshTokenRepository(session)
        self.api_keys = SqlApiKeyRepository(session)

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("commit() in a read-only transaction")
        try:
            await self._session.commit()
        except IntegrityError as exc:
            error = domain_error_for(exc)
            if error is None:
                raise
            raise error from exc
        events, self._events = self._events, []
        await notify(self._listeners, events)


class SqlAlchemyUnitOfWork:
    """Stateless: holds the sessionmaker; each `begin()` is a fresh session and transaction.
    Leaving the block without `commit()` rolls back (closing the session does).
    `begin(read_only=True)` uses the read sessions: on SQLite a deferred BEGIN, not the
    writers' BEGIN IMMEDIATE, so it takes no write lock."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        read_sessions: async_sessionmaker[AsyncSession] | None = None,
        listeners: Sequence[CommitListener] = (),
    ) -> None:
        self._sessions = sessions
        self._read_sessions = read_sessions or sessions
        self._listeners = tuple(listeners)

    @asynccontextmanager
    async def begin(self, *, read_only: bool = False) -> AsyncIterator[SqlAlchemyTransaction]:
        sessions = self._read_sessions if read_only else self._sessions
        async with sessions() as session:
            yield SqlAlchemyTransaction(session, read_only=read_only, listeners=self._listeners)
