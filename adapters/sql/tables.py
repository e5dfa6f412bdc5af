"""SQLAlchemy Core tables: the one schema for Postgres and SQLite (migrations import this)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    text,
    true,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases.

    SQLite has no time zones: values are stored as UTC text and come back naive, so the zone
    is put back on read. Postgres stores `timestamptz`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite auto-increments only an INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")

users = Table(
    "users",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("username", String(40), nullable=False, unique=True),
    # core.users.model.username_key / username_skeleton of `username`, written with it
    # (adapters/sql/rows.py): one name per key, one per look.
    Column("username_key", Text(), nullable=False, unique=True),
    Column("username_skeleton", Text(), nullable=False, unique=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("bio", Text(), nullable=False, server_default=""),
    Column("image", Text(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("role", String(20), nullable=False, server_default="user"),
    Column("active", Boolean(), nullable=False, server_default=true()),
    Column("token_version", Integer(), nullable=False, server_default="0"),
    CheckConstraint("role IN ('user', 'moderator', 'admin')", name="role"),
)

follows = Table(
    "follows",
    metadata,
    Column("follower_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("followee_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("follower_id", "followee_id"),
    CheckConstraint("follower_id <> followee_id", name="not_self"),
    Index(None, "followee_id"),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "author_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("slug", String(120), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text(), nullable=False),
    Column("body", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # Serves the newest-first order with its id tie-breaker.
    Index(None, "created_at", "id"),
)

article_tags = Table(
    "article_tags",
    metadata,
    Column("article_id", Uuid(), ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("tag", String(50), nullable=False),
    PrimaryKeyConstraint("article_id", "tag"),
    Index(None, "tag"),
)

favorites = Table(
    "favorites",
    metadata,
    Column("user_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("article_id", Uuid(), ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("user_id", "article_id"),
    Index(None, "article_id"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("article_id", Uuid(), ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("author_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("body", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index(None, "article_id", "created_at"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("family_id", Uuid(), nullable=False, index=True),
    Column(
        "user_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    # SHA-256 hex of the token; the token itself is never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "user_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", Text(), nullable=False),  # space-separated, like OAuth's scope
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_used_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

# The transactional outbox: each committed transaction's messages (core/shared/outbox.py),
# written with its other writes, sent by the relay. `payload` is JSON text.
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("topic", String(80), nullable=False),
    Column("type", String(40), nullable=False),
    Column("payload", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
)
# The relay's claim reads unsent rows in id order and checks a topic has no earlier unsent one:
# partial indexes keep both small however many sent rows wait to be pruned.
Index(
    "ix_outbox_unsent_id",
    outbox.c.id,
    postgresql_where=outbox.c.sent_at.is_(None),
    sqlite_where=outbox.c.sent_at.is_(None),
)
Index(
    "ix_outbox_unsent_topic_id",
    outbox.c.topic,
    outbox.c.id,
    postgresql_where=outbox.c.sent_at.is_(None),
    sqlite_where=outbox.c.sent_at.is_(None),
)
Index("ix_outbox_sent_at", outbox.c.sent_at)

# Deleting the user, article or comment a notification is about deletes it (no dangling one).
notifications = Table(
    "notifications",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("recipient_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(20), nullable=False),
    Column("actor_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("article_id", Uuid(), ForeignKey("articles.id", ondelete="CASCADE"), nullable=True),
    Column("comment_id", BigIntId, ForeignKey("comments.id", ondelete="CASCADE"), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("read_at", UtcDateTime(), nullable=True),
    CheckConstraint(
        "type IN ('follow', 'favorite', 'comment', 'article', 'webhook_disabled')", name="type"
    ),
    Index(None, "recipient_id", "id"),
    Index(None, "actor_id"),
    Index(None, "article_id"),
    Index(None, "comment_id"),
)

# --- media (issue 14): one row per owner's reference to an image; `digest` (the SHA-256 of
# the re-encoded main variant) names its blobs in the MediaStore. Deleting a user deletes
# their references; the periodic sweep then deletes the blobs nobody references.
uploads = Table(
    "uploads",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("owner_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("content_type", String(40), nullable=False),
    Column("width", Integer(), nullable=False),
    Column("height", Integer(), nullable=False),
    Column("bytes", Integer(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    CheckConstraint("kind IN ('avatar', 'article')", name="kind"),
    UniqueConstraint("owner_id", "kind", "digest"),
    Index(None, "digest"),
    Index(None, "created_at"),
)

# --- issue 15: OpenID Connect sign-in ---
# A provider's subject linked to a local account. OpenID Connect names a user by (iss, sub):
# unique together, whatever the provider's configured id.
user_identities = Table(
    "user_identities",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "user_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("provider", String(64), nullable=False),
    Column("issuer", String(255), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("email", String(254), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("issuer", "subject"),
)

# Pending sign-ins (by state) and one-time codes: single use (DELETE ... RETURNING), short
# lived. `key` is a SHA-256 digest of the secret; `value` is JSON text.
oidc_one_time = Table(
    "oidc_one_time",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False, index=True),
)

# Webhooks (issue 13, core/webhooks): subscriptions with their sealed signing secrets, and one
# delivery per (subscription, event), the worker's source of truth (the queue only nudges).
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("owner_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("events", Text(), nullable=False),  # space-separated event types, or *
    Column("description", String(200), nullable=False),
    Column("active", Boolean(), nullable=False),
    Column("secret", Text(), nullable=False),  # sealed (AES-GCM), never the plaintext
    Column("previous_secret", Text(), nullable=True),
    Column("previous_secret_expires_at", UtcDateTime(), nullable=True),
    Column("consecutive_failures", Integer(), nullable=False),
    Column("disabled_reason", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index(None, "owner_id", "created_at"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column(
        "subscription_id", Uuid(), ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False
    ),
    Column("message_id", String(40), nullable=False, unique=True),
    Column("event_key", String(60), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("payload", Text(), nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("last_attempt_at", UtcDateTime(), nullable=True),
    Column("last_status_code", Integer(), nullable=True),
    Column("last_latency_ms", Integer(), nullable=True),
    Column("last_error", String(200), nullable=True),
    Column("last_response", Text(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
    UniqueConstraint("subscription_id", "event_key"),
    Index(None, "subscription_id", "id"),
)
# The sweep reads pending deliveries by due time: a partial index keeps it small.
Index(
    "ix_webhook_deliveries_pending_due",
    webhook_deliveries.c.next_attempt_at,
    postgresql_where=text("status = 'pending'"),
    sqlite_where=text("status = 'pending'"),
)

# Every attempt of a delivery (issue 13's delivery log): the delivery row keeps the last one's
# outcome, this table each one's. Deleted with its delivery (pruning, a deleted webhook).
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column(
        "delivery_id",
        BigIntId,
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("attempt", Integer(), nullable=False),
    Column("attempted_at", UtcDateTime(), nullable=False),
    Column("status_code", Integer(), nullable=True),
    Column("latency_ms", Integer(), nullable=False),
    Column("error", String(200), nullable=True),
    Column("response", Text(), nullable=False),
    UniqueConstraint("delivery_id", "attempt"),
)
