"""What a storage backend is to the composition root: the protocol and the ports it provides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol, Self

from core.articles.ports import ArticleQueries, ArticlesTransaction
from core.auth.ports import AuthTransaction, UserDirectory
from core.identities.ports import IdentitiesTransaction, OneTimeStore
from core.media.ports import MediaTransaction
from core.notifications.ports import NotificationQueries
from core.profiles.ports import ProfileQueries, ProfilesTransaction
from core.shared.events import CommitListener
from core.shared.health import HealthCheck
from core.shared.uow import UnitOfWork
from core.webhooks.ports import WebhooksTransaction

if TYPE_CHECKING:
    from adapters.cache.callers import ProcessCallerCache
    from adapters.sql.schema import SchemaRevision
    from entrypoints.settings import Settings


class AppTransaction(
    IdentitiesTransaction,  # issue 15; first: it extends AuthTransaction
    AuthTransaction,
    ArticlesTransaction,
    ProfilesTransaction,
    WebhooksTransaction,  # issue 13; includes NotificationsTransaction
    MediaTransaction,
    Protocol,
):
    """Every context's repositories in one transaction: what the adapters' transactions are."""


AppUnitOfWork = UnitOfWork[AppTransaction]


# How a backend tells each process's caller cache of accounts changed by any process:
# "process": nothing outside this process shares its data (memory://), the commit listener
# is enough; "notify": a signal the lifespan runs (`watch_callers`), the cache bypassed
# until it is up; "none": no signal between processes, no cache.
CallerSignal = Literal["process", "notify", "none"]


class StartRefused(Exception):
    """The server must not start; the message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class StorageAdapters:
    """The ports a backend serves over its open clients, for the container to register."""

    uow: AppUnitOfWork
    articles: ArticleQueries
    profiles: ProfileQueries
    users: UserDirectory
    notifications: NotificationQueries
    one_time: OneTimeStore  # issue 15: pending sign-ins and one-time codes


class StorageBackend(Protocol):
    """One storage technology: a class serving the URL schemes in `schemes`, whose instances
    hold its open clients. Only the composition root (container, lifespan, CLI) sees one."""

    name: ClassVar[str]  # in logs and as the tests' parameter id
    schemes: ClassVar[tuple[str, ...]]  # as entrypoints.database_url normalises them
    keeps_data: ClassVar[bool]  # False: `conduit create-admin` refuses (nothing would last)
    caller_signal: ClassVar[CallerSignal]

    @classmethod
    async def open(cls, settings: Settings, *, check_schema: bool = True) -> Self:
        """Open the clients for DATABASE_URL, then migrate or check the schema as the settings
        say (`check_schema` off: a command about to migrate). A failure leaves nothing open;
        StartRefused when the server must not start on this database."""
        ...

    async def close(self) -> None: ...

    def adapters(self, listeners: Sequence[CommitListener]) -> StorageAdapters:
        """The ports over the open clients; `listeners` hear each committed transaction."""
        ...

    def health_checks(self) -> Mapping[str, HealthCheck]:
        """What GET /health/ready asks of the storage, by name (`database`, ...)."""
        ...

    def watch_callers(self, cache: ProcessCallerCache) -> AbstractAsyncContextManager[None]:
        """While the block runs, keep `cache` told of accounts other processes change
        (caller_signal "notify"); a no-op block for the other signals."""
        ...

    async def upgrade_schema(self) -> None:
        """Bring the open storage's schema to the code's head (`conduit create-admin`)."""
        ...

    @classmethod
    async def prepare(cls, settings: Settings) -> Mapping[str, str]:
        """`conduit serve`, once before the workers start: migrate or check the schema.
        Returns environment variables the workers must see (what is done needs no redoing)."""
        ...

    @classmethod
    async def migrate_schema(cls, settings: Settings) -> SchemaRevision | None:
        """`conduit migrate`: upgrade the schema to head; where it stood before, or None
        when the backend has no schema."""
        ...
