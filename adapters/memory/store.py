"""In-memory storage: a transactional snapshot store behind the UnitOfWork port.

Transactions are serialised by one lock (like SERIALIZABLE with one writer), work on a copy of
the committed state and publish it on commit, so an uncommitted transaction leaves no trace.
Reads go to the committed state without the lock. Good for tests, demos and `memory://`;
it keeps nothing across restarts.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from adapters.memory.outbox import (
    InMemoryNotificationRepository,
    InMemoryOutboxRepository,
    NotificationRow,
    OutboxRow,
    write_outbox,
)
from adapters.memory.webhooks import DeliveryRow, InMemoryWebhookRepository
from core.articles.errors import ArticleNotFound, SlugTaken
from core.articles.model import Article, Comment
from core.auth.model import ApiKey, RefreshToken
from core.identities.errors import IdentityTaken
from core.identities.model import Identity
from core.media.model import Upload
from core.profiles.views import ProfileView
from core.shared.events import AccountChanged, CommitListener, DomainEvent, notify
from core.shared.ids import ArticleId, CommentId, UserId
from core.shared.outbox import messages_for
from core.users.errors import EmailTaken, UsernameTaken, UserNotFound
from core.users.model import Role, User, username_key, username_skeleton
from core.webhooks.model import Attempt, Subscription


@dataclass
class MemoryState:
    users: dict[UserId, User] = field(default_factory=dict)
    follows: dict[tuple[UserId, UserId], datetime] = field(default_factory=dict)
    articles: dict[ArticleId, Article] = field(default_factory=dict)
    comments: dict[CommentId, Comment] = field(default_factory=dict)
    favorites: dict[tuple[UserId, ArticleId], datetime] = field(default_factory=dict)
    last_comment_id: int = 0
    refresh_tokens: dict[uuid.UUID, RefreshToken] = field(default_factory=dict)
    api_keys: dict[uuid.UUID, ApiKey] = field(default_factory=dict)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)
    last_outbox_id: int = 0
    notifications: dict[int, NotificationRow] = field(default_factory=dict)
    last_notification_id: int = 0
    uploads: dict[uuid.UUID, Upload] = field(default_factory=dict)
    identities: dict[uuid.UUID, Identity] = field(default_factory=dict)  # issue 15

    # Webhooks (issue 13): subscriptions by id, deliveries by id.
    webhooks: dict[uuid.UUID, Subscription] = field(default_factory=dict)
    deliveries: dict[int, DeliveryRow] = field(default_factory=dict)
    last_delivery_id: int = 0
    # Webhook attempts (the delivery log): each delivery's, oldest first, by delivery id.
    attempts: dict[int, tuple[Attempt, ...]] = field(default_factory=dict)

    def copy(self) -> MemoryState:
        # Entities are frozen, so copying the containers is a full snapshot.
        return MemoryState(
            dict(self.users),
            dict(self.follows),
            dict(self.articles),
            dict(self.comments),
            dict(self.favorites),
            self.last_comment_id,
            dict(self.refresh_tokens),
            dict(self.api_keys),
            dict(self.outbox),
            self.last_outbox_id,
            dict(self.notifications),
            self.last_notification_id,
            dict(self.uploads),
            dict(self.identities),
            dict(self.webhooks),
            dict(self.deliveries),
            self.last_delivery_id,
            dict(self.attempts),
        )


class MemoryDatabase:
    """The committed state plus the writer lock; share one between UoW and queries."""

    def __init__(self) -> None:
        self.state = MemoryState()
        self.lock = asyncio.Lock()


def by_username(state: MemoryState, username: str) -> User | None:
    """The user with this username up to case and Unicode compatibility (its key), like
    the SQL adapters' lookups by users.username_key."""
    key = username_key(username)
    return next((u for u in state.users.values() if username_key(u.username) == key), None)


class InMemoryUserRepository:
    def __init__(
        self, state: MemoryState, record: Callable[[DomainEvent], None] = lambda _event: None
    ) -> None:
        self._s, self._record = state, record

    def _check_unique(self, user: User) -> None:
        # Mirrors the unique constraints uq_users_username(_key), uq_users_username_skeleton
        # and uq_users_email.
        key, skeleton = username_key(user.username), username_skeleton(user.username)
        for other in self._s.users.values():
            if other.id == user.id:
                continue
            if username_key(other.username) == key or username_skeleton(other.username) == skeleton:
                raise UsernameTaken()  # like the SQL adapter: which of the two, it cannot tell
            if other.email == user.email:
                raise EmailTaken()

    async def add(self, user: User) -> None:
        self._check_unique(user)
        self._s.users[user.id] = user

    async def update(self, user: User) -> None:
        self._check_unique(user)
        current = self._s.users.get(user.id)
        if current is None:
            return
        self._record(AccountChanged(user.id))
        # Like the SQL adapter: created_at, role, active and token_version are not written.
        self._s.users[user.id] = replace(
            user,
            created_at=current.created_at,
            role=current.role,
            active=current.active,
            token_version=current.token_version,
        )

    async def set_access(self, user_id: UserId, *, role: Role, active: bool) -> None:
        if (user := self._s.users.get(user_id)) is not None:
            self._record(AccountChanged(user_id))
            self._s.users[user_id] = replace(user, role=role, active=active)

    async def bump_token_version(self, user_id: UserId) -> None:
        if (user := self._s.users.get(user_id)) is not None:
            self._record(AccountChanged(user_id))
            self._s.users[user_id] = replace(user, token_version=user.token_version + 1)

    async def get(self, user_id: UserId) -> User | None:
        return self._s.users.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        wanted = email.lower()
        return next((u for u in self._s.users.values() if u.email == wanted), None)

    async def get_by_username(self, username: str) -> User | None:
        return by_username(self._s, username)

    async def get_lookalike(
        self, username: str, *, other_than: UserId | None = None
    ) -> User | None:
        key, skeleton = username_key(username), username_skeleton(username)
        others = [u for u in self._s.users.values() if u.id != other_than]
        same = (u for u in others if username_key(u.username) == key)
        alike = (u for u in others if username_skeleton(u.username) == skeleton)
        return next(same, None) or next(alike, None)


class InMemoryFollowRepository:
    def __init__(self, state: MemoryState, now: datetime) -> None:
        self._s, self._now = state, now

    async def add(self, follower_id: UserId, followee_id: UserId) -> None:
        self._s.follows.setdefault((follower_id, followee_id), self._now)

    async def remove(self, follower_id: UserId, followee_id: UserId) -> None:
        self._s.follows.pop((follower_id, followee_id), None)

    async def is_following(self, follower_id: UserId, followee_id: UserId) -> bool:
        return (follower_id, followee_id) in self._s.follows


class InMemoryArticleRepository:
    def __init__(
        self, state: MemoryState, record: Callable[[DomainEvent], None] = lambda _event: None
    ) -> None:
        self._s, self._record = state, record

    def _check_unique(self, article: Article) -> None:
        for other in self._s.articles.values():
            if other.id != article.id and other.slug == article.slug:
                raise SlugTaken()

    async def add(self, article: Article, *, announcing: DomainEvent | None = None) -> ProfileView:
        author = self._s.users.get(article.author_id)
        if author is None:  # mirrors the foreign key to users
            raise UserNotFound()
        self._check_unique(article)
        self._s.articles[article.id] = article
        if announcing is not None:
            self._record(announcing)
        return ProfileView.of(author, following=False)

    async def update(self, article: Article) -> None:
        current = self._s.articles.get(article.id)
        if current is None:  # like the SQL adapter: the article was deleted since it was read
            raise ArticleNotFound()
        self._check_unique(article)
        # Like the SQL adapter: author_id and created_at are not written by update.
        self._s.articles[article.id] = replace(
            article, author_id=current.author_id, created_at=current.created_at
        )

    async def delete(self, article_id: ArticleId) -> None:
        # Mirrors ON DELETE CASCADE of comments, favorites and tag links.
        self._s.articles.pop(article_id, None)
        for cid in [c.id for c in self._s.comments.values() if c.article_id == article_id]:
            assert cid is not None
            del self._s.comments[cid]
        for key in [k for k in self._s.favorites if k[1] == article_id]:
            del self._s.favorites[key]
        for i in [i for i, n in self._s.notifications.items() if n.article_id == article_id]:
            del self._s.notifications[i]

    async def get_by_slug(self, slug: str) -> Article | None:
        return next((a for a in self._s.articles.values() if a.slug == slug), None)

    async def slug_exists(self, slug: str) -> bool:
        return await self.get_by_slug(slug) is not None


class InMemoryCommentRepository:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    async def add(self, comment: Comment) -> Comment:
        if comment.article_id not in self._s.articles:  # mirrors the foreign key
            raise ArticleNotFound()
        self._s.last_comment_id += 1
        stored = Comment(
            CommentId(self._s.last_comment_id),
            comment.article_id,
            comment.author_id,
            comment.body,
            comment.created_at,
            comment.updated_at,
        )
        self._s.comments[CommentId(self._s.last_comment_id)] = stored
        return stored

    async def get(self, comment_id: CommentId) -> Comment | None:
        return self._s.comments.get(comment_id)

    async def delete(self, comment_id: CommentId) -> None:
        self._s.comments.pop(comment_id, None)
        # Mirrors ON DELETE CASCADE of the notifications about it.
        for key in [k for k, n in self._s.notifications.items() if n.comment_id == comment_id]:
            del self._s.notifications[key]


class InMemoryFavoriteRepository:
    def __init__(self, state: MemoryState, now: datetime) -> None:
        self._s, self._now = state, now

    async def add(self, user_id: UserId, article_id: ArticleId) -> None:
        if article_id not in self._s.articles:  # mirrors the foreign key
            raise ArticleNotFound()
        self._s.favorites.setdefault((user_id, article_id), self._now)

    async def remove(self, user_id: UserId, article_id: ArticleId) -> None:
        self._s.favorites.pop((user_id, article_id), None)


class InMemoryRefreshTokenRepository:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    async def add(self, token: RefreshToken) -> None:
        self._s.refresh_tokens[token.id] = token

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        tokens = self._s.refresh_tokens.values()
        return next((t for t in tokens if t.token_hash == token_hash), None)

    async def mark_used(self, token_id: uuid.UUID, now: datetime) -> bool:
        token = self._s.refresh_tokens.get(token_id)
        if token is None or token.used_at is not None or token.revoked_at is not None:
            return False
        self._s.refresh_tokens[token_id] = replace(token, used_at=now)
        return True

    def _revoke_where(self, matches: Callable[[RefreshToken], bool], now: datetime) -> None:
        for token_id, token in list(self._s.refresh_tokens.items()):
            if matches(token) and token.revoked_at is None:
                self._s.refresh_tokens[token_id] = replace(token, revoked_at=now)

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        self._revoke_where(lambda t: t.family_id == family_id, now)

    async def revoke_all_for_user(self, user_id: UserId, now: datetime) -> None:
        self._revoke_where(lambda t: t.user_id == user_id, now)


class InMemoryApiKeyRepository:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    async def add(self, key: ApiKey) -> None:
        self._s.api_keys[key.id] = key

    async def get(self, key_id: uuid.UUID) -> ApiKey | None:
        return self._s.api_keys.get(key_id)

    async def get_by_prefix(self, prefix: str) -> ApiKey | None:
        return next((k for k in self._s.api_keys.values() if k.prefix == prefix), None)

    async def list_for_user(self, user_id: UserId) -> list[ApiKey]:
        keys = [
            k for k in self._s.api_keys.values() if k.user_id == user_id and k.revoked_at is None
        ]
        return sorted(keys, key=lambda k: (k.created_at, k.id), reverse=True)

    async def revoke(self, key_id: uuid.UUID, now: datetime) -> None:
        key = self._s.api_keys.get(key_id)
        if key is not None and key.revoked_at is None:
            self._s.api_keys[key_id] = replace(key, revoked_at=now)

    async def revoke_all_for_user(self, user_id: UserId, now: datetime) -> None:
        for key_id, key in list(self._s.api_keys.items()):
            if key.user_id == user_id and key.revoked_at is None:
                self._s.api_keys[key_id] = replace(key, revoked_at=now)

    async def touch(self, key_id: uuid.UUID, now: datetime) -> None:
        if (key := self._s.api_keys.get(key_id)) is not None:
            self._s.api_keys[key_id] = replace(key, last_used_at=now)


class InMemoryUploadRepository:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    async def add(self, upload: Upload) -> Upload:
        # Mirrors uq_uploads_owner_id_kind_digest with ON CONFLICT DO NOTHING.
        for held in self._s.uploads.values():
            same = (held.owner_id, held.kind, held.digest)
            if same == (upload.owner_id, upload.kind, upload.digest):
                return held
        self._s.uploads[upload.id] = upload
        return upload

    async def get(self, upload_id: uuid.UUID) -> Upload | None:
        return self._s.uploads.get(upload_id)

    async def delete(self, upload_id: uuid.UUID) -> None:
        self._s.uploads.pop(upload_id, None)

    async def count_for_owner(self, owner_id: UserId) -> int:
        return sum(1 for u in self._s.uploads.values() if u.owner_id == owner_id)

    async def count_for_digest(self, digest: str) -> int:
        return sum(1 for u in self._s.uploads.values() if u.digest == digest)

    async def unused_before(self, cutoff: datetime, limit: int) -> list[Upload]:
        texts = [u.image or "" for u in self._s.users.values()]
        texts += [a.body for a in self._s.articles.values()]
        unused = [
            u
            for u in self._s.uploads.values()
            if u.created_at < cutoff and not any(u.digest in text for text in texts)
        ]
        return sorted(unused, key=lambda u: (u.created_at, u.id))[:limit]


class InMemoryIdentityRepository:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    async def add(self, identity: Identity) -> None:
        # Mirrors uq_user_identities_issuer_subject.
        if await self.get(identity.issuer, identity.subject) is not None:
            raise IdentityTaken()
        self._s.identities[identity.id] = identity

    async def get(self, issuer: str, subject: str) -> Identity | None:
        return next(
            (i for i in self._s.identities.values() if (i.issuer, i.subject) == (issuer, subject)),
            None,
        )

    async def list_for_user(self, user_id: UserId) -> list[Identity]:
        mine = [i for i in self._s.identities.values() if i.user_id == user_id]
        return sorted(mine, key=lambda i: (i.created_at, i.id))

    async def delete(self, user_id: UserId, identity_id: uuid.UUID) -> bool:
        identity = self._s.identities.get(identity_id)
        if identity is None or identity.user_id != user_id:
            return False
        del self._s.identities[identity_id]
        return True


class InMemoryTransaction:
    def __init__(
        self,
        db: MemoryDatabase,
        now: datetime,
        *,
        read_only: bool = False,
        listeners: Sequence[CommitListener] = (),
    ) -> None:
        self._db = db
        self._read_only = read_only
        self._listeners = listeners
        self._events: list[DomainEvent] = []
        # A copy even when read-only: a stray write must vanish as it does in SQL (rollback),
        # not land in the committed state. Copying the containers is cheap (entities are frozen).
        state = db.state.copy()
        self.state = state
        self._now = now
        self._rebind(state)

    def _rebind(self, state: MemoryState) -> None:
        self._users = InMemoryUserRepository(state, self.record)
        self._follows = InMemoryFollowRepository(state, self._now)
        self._articles = InMemoryArticleRepository(state, self.record)
        self._comments = InMemoryCommentRepository(state)
        self._favorites = InMemoryFavoriteRepository(state, self._now)
        self._refresh_tokens = InMemoryRefreshTokenRepository(state)
        self._api_keys = InMemoryApiKeyRepository(state)
        self._outbox = InMemoryOutboxRepository(state)
        self._notifications = InMemoryNotificationRepository(state)
        self._uploads = InMemoryUploadRepository(state)

        self._identities = InMemoryIdentityRepository(state)
        self._webhooks = InMemoryWebhookRepository(state)

    @property
    def users(self) -> InMemoryUserRepository:
        return self._users

    @property
    def follows(self) -> InMemoryFollowRepository:
        return self._follows

    @property
    def articles(self) -> InMemoryArticleRepository:
        return self._articles

    @property
    def comments(self) -> InMemoryCommentRepository:
        return self._comments

    @property
    def favorites(self) -> InMemoryFavoriteRepository:
        return self._favorites

    @property
    def refresh_tokens(self) -> InMemoryRefreshTokenRepository:
        return self._refresh_tokens

    @property
    def api_keys(self) -> InMemoryApiKeyRepository:
        return self._api_keys

    @property
    def outbox(self) -> InMemoryOutboxRepository:
        return self._outbox

    @property
    def notifications(self) -> InMemoryNotificationRepository:
        return self._notifications

    @property
    def uploads(self) -> InMemoryUploadRepository:
        return self._uploads

    @property
    def identities(self) -> InMemoryIdentityRepository:
        return self._identities

    @property
    def webhooks(self) -> InMemoryWebhookRepository:
        return self._webhooks

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("commit() in a read-only transaction")
        # The events' outbox rows commit with the writes, as in SQL.
        write_outbox(self.state, messages_for(self._events), self._now)
        # Publish the working copy; further writes in this block go to a fresh copy.
        self._db.state = self.state
        self.state = self.state.copy()
        self._rebind(self.state)
        events, self._events = self._events, []
        await notify(self._listeners, events)


class InMemoryUnitOfWork:
    """UnitOfWork over a MemoryDatabase: all-or-nothing, one writing transaction at a time
    (behind the database's lock); a read-only one reads a snapshot without taking the lock."""

    def __init__(
        self, db: MemoryDatabase | None = None, listeners: Sequence[CommitListener] = ()
    ) -> None:
        self.db = db or MemoryDatabase()
        self._listeners = tuple(listeners)

    @asynccontextmanager
    async def begin(self, *, read_only: bool = False) -> AsyncIterator[InMemoryTransaction]:
        if read_only:  # a snapshot of the committed state without the writer lock
            yield InMemoryTransaction(self.db, datetime.now(UTC), read_only=True)
            return
        async with self.db.lock:
            yield InMemoryTransaction(self.db, datetime.now(UTC), listeners=self._listeners)
