"""UnitOfWork and Transaction ports: one use case, one transaction, one explicit commit.

Each context declares the transaction its use cases need, this `Transaction` plus the
repositories they touch (`UsersTransaction`, `ArticlesTransaction`...), and asks for a
`UnitOfWork[ThatTransaction]`. The adapters' transaction holds every repository, so one unit
of work serves every context, and this module needs to know none of them.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar

from core.shared.events import DomainEvent


class Transaction(Protocol):
    """Repositories bound to one transaction (each context's sub-protocol names the ones it
    uses). Nothing is visible to others before `commit`; leaving the `begin()` block without
    committing discards every write."""

    def record(self, event: DomainEvent) -> None:
        """Note an event; listeners get it after `commit`, never if the transaction rolls back."""
        ...

    async def commit(self) -> None:
        """Make every write visible at once; unique clashes raise their domain errors here.
        Then hand the recorded events to the unit of work's commit listeners."""
        ...


TransactionT_co = TypeVar("TransactionT_co", bound=Transaction, covariant=True)


class UnitOfWork(Protocol[TransactionT_co]):
    """Starts transactions. Stateless: one instance serves concurrent callers.

    `begin(read_only=True)` is for lookups that write nothing (authentication, pre-checks):
    it takes no write lock, and its `commit()` raises.
    """

    def begin(self, *, read_only: bool = False) -> AbstractAsyncContextManager[TransactionT_co]: ...
