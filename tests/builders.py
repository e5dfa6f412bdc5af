"""Test data builders (a_user, an_article, a_comment) and Fakes: use cases wired to fakes."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from adapters.cache.callers import ProcessCallerCache
from adapters.memory.attempts import InMemoryAttemptCounter, InMemoryKnownAddresses
from adapters.memory.queries import (
    InMemoryArticleQueries,
    InMemoryProfileQueries,
    InMemoryUserDirectory,
)
from adapters.memory.store import InMemoryUnitOfWork, MemoryDatabase
from adapters.security.tokens import JoseTokenIssuer
from core.articles.model import Article, Comment, slugify
from core.articles.ports import ArticleQueries
from core.articles.use_cases import PublishArticle, PublishArticleInput
from core.articles.views import ArticleView
from core.auth.authentication import Authenticate, ForgetChangedCallers
from core.auth.model import AuthPolicy
from core.auth.ports import (
    AttemptCounter,
    CallerCache,
    KeyPublisher,
    KnownAddresses,
    TokenIssuer,
    UserDirectory,
)
from core.auth.sessions import SignUp
from core.profiles.ports import ProfileQueries
from core.shared.clock import Clock
from core.shared.ids import ArticleId, CommentId, UserId, new_article_id, new_user_id
from core.shared.uow import UnitOfWork
from core.users.model import Actor, Role, User
from core.users.ports import PasswordHasher
from core.users.use_cases import RegisterUserInput
from tests.fakes.clock import FakeClock, TickingClock
from tests.fakes.passwords import FakePasswordHasher

T = TypeVar("T")

SECRET = "unit-test-secret-key-that-is-at-least-32-bytes"
TOKEN_TTL = timedelta(hours=1)
PASSWORD = "correct horse battery"
WHEN = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)


def a_user(
    username: str = "jake",
    *,
    email: str | None = None,
    password_hash: str = "fake-sha256$not-a-real-hash",
    bio: str = "",
    image: str | None = None,
    user_id: UserId | None = None,
    role: Role = Role.USER,
    active: bool = True,
    now: datetime = WHEN,
) -> User:
    """A valid user; the email defaults to `<username>@example.com`."""
    return User(
        user_id or new_user_id(),
        username,
        email or f"{username.lower()}@example.com",
        password_hash,
        bio,
        image,
        now,
        now,
        role=role,
        active=active,
    )


def an_article(
    author_id: UserId,
    *,
    title: str = "How to train your dragon",
    slug: str | None = None,
    description: str = "Ever wonder how?",
    body: str = "You have to believe.",
    tags: tuple[str, ...] = (),
    article_id: ArticleId | None = None,
    created_at: datetime = WHEN,
    updated_at: datetime | None = None,
) -> Article:
    """A valid article by `author_id`; the slug defaults to `slugify(title)`."""
    return Article(
        article_id or new_article_id(),
        author_id,
        slugify(title) if slug is None else slug,
        title,
        description,
        body,
        tags,
        created_at,
        updated_at or created_at,
    )


def a_comment(
    article_id: ArticleId,
    author_id: UserId,
    *,
    body: str = "Thank you so much!",
    comment_id: CommentId | None = None,
    now: datetime = WHEN,
) -> Comment:
    """A comment; `comment_id` None means storage assigns one (as for a new comment)."""
    return Comment(comment_id, article_id, author_id, body, now, now)


_HINTS: dict[object, dict[str, object]] = {}


def _constructor_hints(use_case: type[object]) -> dict[str, object]:
    """Constructor parameter -> annotated type, cached (resolving string annotations is slow)."""
    if use_case not in _HINTS:
        hints = typing.get_type_hints(use_case.__init__)
        _HINTS[use_case] = {name: hints[name] for name in inspect.signature(use_case).parameters}
    return _HINTS[use_case]


@dataclass
class Fakes:
    """Every port a core use case needs, as fast in-memory fakes over one MemoryDatabase.

    `build(UseCase)` resolves the constructor from its type hints, as the container does:
    ports map to the fakes below (the one unit of work serves every context's
    `UnitOfWork[...]`), other classes (PasswordCheck) are built the same way.
    """

    db: MemoryDatabase = field(default_factory=MemoryDatabase)
    clock: FakeClock = field(default_factory=TickingClock)
    hasher: FakePasswordHasher = field(default_factory=FakePasswordHasher)
    policy: AuthPolicy = field(default_factory=AuthPolicy)
    uow: InMemoryUnitOfWork = field(init=False)
    queries: InMemoryArticleQueries = field(init=False)
    profiles: InMemoryProfileQueries = field(init=False)
    directory: InMemoryUserDirectory = field(init=False)
    attempts: InMemoryAttemptCounter = field(init=False)
    known: InMemoryKnownAddresses = field(init=False)
    tokens: JoseTokenIssuer = field(init=False)
    callers: ProcessCallerCache = field(init=False)

    def __post_init__(self) -> None:
        # The caller cache as memory:// wires it: forgotten by the commit listener.
        self.callers = ProcessCallerCache()
        self.uow = InMemoryUnitOfWork(self.db, [ForgetChangedCallers(self.callers)])
        self.queries = InMemoryArticleQueries(self.db)
        self.profiles = InMemoryProfileQueries(self.db)
        self.directory = InMemoryUserDirectory(self.db)
        self.attempts = InMemoryAttemptCounter(lambda: self.clock.now().timestamp())
        self.known = InMemoryKnownAddresses(lambda: self.clock.now().timestamp())
        self.tokens = JoseTokenIssuer(SECRET, TOKEN_TTL, self.clock)

    def build(self, use_case: type[T]) -> T:
        ports: dict[object, object] = {
            ArticleQueries: self.queries,
            ProfileQueries: self.profiles,
            UserDirectory: self.directory,
            AttemptCounter: self.attempts,
            KnownAddresses: self.known,
            Clock: self.clock,
            PasswordHasher: self.hasher,
            TokenIssuer: self.tokens,
            KeyPublisher: self.tokens,
            AuthPolicy: self.policy,
            CallerCache: self.callers,
        }
        args = {
            name: self._provide(hint, ports) for name, hint in _constructor_hints(use_case).items()
        }
        return use_case(**args)

    def _provide(self, hint: object, ports: dict[object, object]) -> object:
        if typing.get_origin(hint) is UnitOfWork:  # UnitOfWork[<a context's transaction>]
            return self.uow
        if hint in ports:
            return ports[hint]
        return self.build(typing.cast(type[object], hint))

    async def store(self, *items: User | Article | Comment) -> None:
        """Commit entities straight into storage, bypassing the use cases' rules."""
        async with self.uow.begin() as tx:
            for item in items:
                if isinstance(item, User):
                    await tx.users.add(item)
                elif isinstance(item, Article):
                    await tx.articles.add(item)
                else:
                    await tx.comments.add(item)
            await tx.commit()

    async def register(
        self,
        username: str = "jake",
        *,
        email: str | None = None,
        password: str = PASSWORD,
        role: Role = Role.USER,
    ) -> Actor:
        """Sign up through SignUp (then give the role), authenticate with the token."""
        view = await self.build(SignUp).execute(
            RegisterUserInput(username, email or f"{username}@example.com", password)
        )
        if role is not Role.USER:
            user_id = self.tokens.verify(view.token).user_id
            async with self.uow.begin() as tx:
                await tx.users.set_access(user_id, role=role, active=True)
                await tx.commit()
        return await self.build(Authenticate).execute(view.token)

    async def publish(
        self,
        actor: Actor,
        title: str = "How to train your dragon",
        *,
        description: str = "Ever wonder how?",
        body: str = "You have to believe.",
        tags: Sequence[str] = (),
    ) -> ArticleView:
        """Publish through PublishArticle."""
        return await self.build(PublishArticle).execute(
            actor, PublishArticleInput(title, description, body, tags)
        )
