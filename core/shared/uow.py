"""UnitOfWork and Transaction ports: one use case, one transaction, one explicit commit."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from core.articles.ports import ArticleRepository, CommentRepository, FavoriteRepository
from core.auth.ports import ApiKeyRepository, RefreshTokenRepository
from core.profiles.ports import FollowRepository
from core.shared.events import DomainEvent
from core.users.ports import UserRepository


class Transaction(Protocol):
    """Repositories bound to one transaction. Nothing is visible to others before `commit`;
    leaving the `begin()` block without committing discards every write."""

    @property
    def users(self) -> UserRepository: ...
    @property
    def follows(self) -> FollowRepository: ...
    @property
    def articles(self) -> ArticleRepository: ...
    @property
    def comments(self) -> CommentRepository: ...
    @property
    def favorites(self) -> FavoriteRepository: ...
    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...

    def record(self, event: DomainEvent) -> None:
        """Note an event; listeners get it after `commit`, never if the transaction rolls back."""
        ...

    async def commit(self) -> None:
        """Make every write visible at once; unique clashes raise their domain errors here.
        Then hand the recorded events to the unit of work's commit listeners."""
        ...


class UnitOfWork(Protocol):
    """Starts transactions. Stateless: one instance serves concurrent callers.

    `begin(read_only=True)` is for lookups that write nothing (authentication, pre-checks):
    it takes no write lock (SQLite: a deferred transaction; memory: no writer lock), and its
    `commit()` raises.
    """

    def begin(self, *, read_only: bool = False) -> AbstractAsyncContextManager[Transaction]: ...
