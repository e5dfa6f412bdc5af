"""Repositories over the connection of one unit of work (adapters.sql.engine.Statements)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Insert,
    Select,
    String,
    Text,
    Update,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from adapters.sql.callers import CALLERS_CHANNEL
from adapters.sql.constraints import domain_error_for
from adapters.sql.engine import ReadConnection, Statements, WriteConnection
from adapters.sql.outbox import outbox_columns
from adapters.sql.rows import (
    article_from_row,
    article_to_values,
    comment_from_row,
    user_from_row,
    user_to_values,
)
from adapters.sql.tables import (
    article_tags,
    articles,
    comments,
    favorites,
    follows,
    outbox,
    users,
)
from core.articles.errors import ArticleNotFound, SlugTaken
from core.articles.model import Article, Comment
from core.profiles.views import ProfileView
from core.shared.events import AccountChanged, DomainEvent
from core.shared.ids import ArticleId, CommentId, UserId
from core.shared.outbox import messages_for
from core.users.model import Role, User, username_key, username_skeleton


def insert_ignoring_duplicates(connection: Statements, table: Any) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING for the connection's dialect (idempotent link rows)."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


async def execute_mapped(
    connection: Statements,
    statement: Any,
    parameters: dict[str, Any] | list[dict[str, Any]] | None = None,
) -> Any:
    """Execute a write; a constraint violation we know (a unique value taken, a row referring
    to an article deleted meanwhile) becomes its domain error (adapters.sql.constraints)."""
    try:
        return await connection.execute(statement, parameters)
    except IntegrityError as exc:
        error = domain_error_for(exc)
        if error is None:
            raise
        raise error from exc


_NOBODY = UserId(uuid.UUID(int=0))

# Built once, values bound at execution: on every authenticated request a user is looked up
# by id, and building a statement cost more CPU than running it.
_INSERT_USER = insert(users)


# The author's profile as `add` returns it (ProfileView's fields but `following`).
_AUTHOR_PROFILE = (users.c.username, users.c.bio, users.c.image)
_AUTHOR_OF = select(*_AUTHOR_PROFILE).where(
    users.c.id == bindparam("author_id", type_=users.c.id.type)
)


def _author_profile(row: Any) -> ProfileView:
    return ProfileView.of(row, following=False)  # one's own: nobody follows themselves


@functools.cache
def _insert_article(dialect: str) -> Insert:
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_for(articles).on_conflict_do_nothing(index_elements=[articles.c.slug])


def _insert_article_with_tags() -> Select[Any]:
    """Postgres: the article, its tags and the outbox rows of the event announcing it in one
    statement (one round trip), giving its author's profile columns: no row when the slug was
    taken (ON CONFLICT DO NOTHING: no tag and no outbox row either, as both INSERTs select
    from the inserted row). The tags and the messages come as array parameters (as
    adapters.sql.outbox.outbox_columns gives them), inserted in their order."""
    article = (
        postgresql.insert(articles)
        .values({column.name: bindparam(column.name, type_=column.type) for column in articles.c})
        .on_conflict_do_nothing(index_elements=[articles.c.slug])
        .returning(articles.c.id, articles.c.author_id)
        .cte("article")
    )
    tags = insert(article_tags).from_select(
        ["article_id", "tag"],
        select(article.c.id, func.unnest(bindparam("tags", type_=postgresql.ARRAY(String)))),
    )
    texts = postgresql.ARRAY(String())
    message = (
        func.unnest(
            bindparam("topics", type_=texts),
            bindparam("types", type_=texts),
            bindparam("payloads", type_=texts),
        )
        .table_valued("topic", "type", "payload", with_ordinality="n")
        .render_derived(name="message")
    )
    messages = insert(outbox).from_select(
        ["topic", "type", "payload", "created_at"],
        select(
            message.c.topic,
            message.c.type,
            message.c.payload,
            bindparam("at", type_=outbox.c.created_at.type),
        )
        .select_from(article.join(message, true()))
        .order_by(message.c.n),
    )
    return (
        select(*_AUTHOR_PROFILE)
        .select_from(article.join(users, users.c.id == article.c.author_id))
        .add_cte(tags.cte("tags"), messages.cte("messages"))
    )


_INSERT_ARTICLE_WITH_TAGS = _insert_article_with_tags()


_SLUG_EXISTS = select(exists().where(articles.c.slug == bindparam("slug")))
_USER_BY = {
    key: select(users).where(users.c[key] == bindparam("value", type_=users.c[key].type))
    for key in ("id", "email", "username_key")
}
# Other users with the same username key or skeleton, a same-key one first: at most two rows
# (both columns are unique), found through their unique indexes. No LIMIT: every value is a
# named parameter, as the read connection's driver path wants.
_LOOKALIKE = (
    select(users)
    .where(
        or_(
            users.c.username_key == bindparam("key"),
            users.c.username_skeleton == bindparam("skeleton"),
        ),
        users.c.id != bindparam("other_than", type_=users.c.id.type),
    )
    .order_by((users.c.username_key == bindparam("key")).desc())
)


def _signalled(connection: Statements, statement: Update) -> Update:
    """On Postgres, a write to a user's row also NOTIFYs its id on CALLERS_CHANNEL, in the
    same statement (no round trip more): Postgres delivers it at commit, never on rollback,
    to every process's caller cache (adapters.sql.callers)."""
    if connection.dialect.name != "postgresql":
        return statement
    return statement.returning(func.pg_notify(CALLERS_CHANNEL, cast(users.c.id, Text)))


class SqlUserRepository:
    def __init__(
        self,
        connection: Statements,
        record: Callable[[DomainEvent], None] = lambda _event: None,
    ) -> None:
        self._connection, self._record = connection, record

    async def add(self, user: User) -> None:
        await execute_mapped(self._connection, _INSERT_USER, user_to_values(user))

    async def update(self, user: User) -> None:
        values = user_to_values(user)
        # Role, active and token_version have their own atomic writes: never overwrite them
        # with what this transaction happened to read.
        for column in ("id", "created_at", "role", "active", "token_version"):
            del values[column]
        self._record(AccountChanged(user.id))
        statement = update(users).where(users.c.id == user.id).values(values)
        await execute_mapped(self._connection, _signalled(self._connection, statement))

    async def _one(self, key: str, value: Any) -> User | None:
        if isinstance(value, str) and "\x00" in value:
            return None  # Postgres text cannot hold NUL: nothing can match
        connection = self._connection
        if isinstance(connection, ReadConnection):  # the caller's lookup on every request
            rows = await connection.rows(_USER_BY[key], {"value": value})
            return user_from_row(rows[0]) if rows else None
        row = (await connection.execute(_USER_BY[key], {"value": value})).one_or_none()
        return None if row is None else user_from_row(row._mapping)

    async def get(self, user_id: UserId) -> User | None:
        return await self._one("id", user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self._one("email", email.lower())

    async def get_by_username(self, username: str) -> User | None:
        return await self._one("username_key", username_key(username))

    async def get_lookalike(
        self, username: str, *, other_than: UserId | None = None
    ) -> User | None:
        if "\x00" in username:
            return None  # Postgres text cannot hold NUL: nothing can match
        parameters = {
            "key": username_key(username),
            "skeleton": username_skeleton(username),
            # No user has the nil UUID: "other than nobody".
            "other_than": other_than or _NOBODY,
        }
        connection = self._connection
        if isinstance(connection, ReadConnection):  # registration's pre-check
            rows = await connection.rows(_LOOKALIKE, parameters)
            return user_from_row(rows[0]) if rows else None
        row = (await connection.execute(_LOOKALIKE, parameters)).first()
        return None if row is None else user_from_row(row._mapping)

    async def set_access(self, user_id: UserId, *, role: Role, active: bool) -> None:
        self._record(AccountChanged(user_id))
        statement = update(users).where(users.c.id == user_id)
        await self._connection.execute(
            _signalled(self._connection, statement.values(role=role.value, active=active))
        )

    async def bump_token_version(self, user_id: UserId) -> None:
        self._record(AccountChanged(user_id))
        statement = (
            update(users)
            .where(users.c.id == user_id)
            .values(token_version=users.c.token_version + 1)
        )
        await self._connection.execute(_signalled(self._connection, statement))


class SqlFollowRepository:
    def __init__(self, connection: Statements) -> None:
        self._connection = connection

    async def add(self, follower_id: UserId, followee_id: UserId) -> None:
        statement = insert_ignoring_duplicates(self._connection, follows).values(
            follower_id=follower_id, followee_id=followee_id, created_at=datetime.now(UTC)
        )
        await self._connection.execute(statement)

    async def remove(self, follower_id: UserId, followee_id: UserId) -> None:
        await self._connection.execute(
            delete(follows).where(
                follows.c.follower_id == follower_id, follows.c.followee_id == followee_id
            )
        )

    async def is_following(self, follower_id: UserId, followee_id: UserId) -> bool:
        query = select(
            exists().where(
                follows.c.follower_id == follower_id, follows.c.followee_id == followee_id
            )
        )
        return bool((await self._connection.execute(query)).scalar())


class SqlArticleRepository:
    def __init__(
        self,
        connection: Statements,
        record: Callable[[DomainEvent], None] = lambda _event: None,
        record_written: Callable[[DomainEvent], None] | None = None,
    ) -> None:
        """`record` notes an event as `Transaction.record` does; `record_written` notes one
        whose outbox rows this repository wrote itself (Postgres: with the article)."""
        self._connection, self._record = connection, record
        self._record_written = record_written or record

    async def add(self, article: Article, *, announcing: DomainEvent | None = None) -> ProfileView:
        # ON CONFLICT (slug) DO NOTHING: a taken slug inserts nothing and fails no statement,
        # so the transaction goes on (Postgres would abort it on a unique violation); a writer
        # holding the slug uncommitted is waited for, as the unique index does.
        values = article_to_values(article)
        connection = self._connection
        if connection.dialect.name == "postgresql":
            values["tags"] = list(article.tags)
            messages = messages_for([announcing]) if announcing is not None else []
            values.update(outbox_columns(messages, datetime.now(UTC)))
            if isinstance(connection, WriteConnection):  # the hot path: straight to asyncpg
                try:
                    rows = await connection.run(_INSERT_ARTICLE_WITH_TAGS, values)
                except IntegrityError as exc:
                    raise domain_error_for(exc) or exc from exc
                author = rows[0] if rows else None
            else:
                result = await execute_mapped(connection, _INSERT_ARTICLE_WITH_TAGS, values)
                author = result.mappings().one_or_none()
            if author is None:
                raise SlugTaken()
            if announcing is not None:
                self._record_written(announcing)
            return _author_profile(author)
        statement = _insert_article(self._connection.dialect.name)
        result = await execute_mapped(self._connection, statement, values)
        if result.rowcount == 0:
            raise SlugTaken()
        await self._write_tags(article)
        found = await self._connection.execute(_AUTHOR_OF, {"author_id": article.author_id})
        if announcing is not None:
            self._record(announcing)
        return _author_profile(found.mappings().one())

    async def update(self, article: Article) -> None:
        values = article_to_values(article)
        del values["id"], values["author_id"], values["created_at"]
        result = await execute_mapped(
            self._connection, update(articles).where(articles.c.id == article.id).values(values)
        )
        if result.rowcount == 0:  # deleted since it was read (by a concurrent delete)
            raise ArticleNotFound()
        await self._connection.execute(
            delete(article_tags).where(article_tags.c.article_id == article.id)
        )
        await self._write_tags(article)

    async def _write_tags(self, article: Article) -> None:
        if article.tags:
            await execute_mapped(
                self._connection,
                insert(article_tags),
                [{"article_id": article.id, "tag": tag} for tag in article.tags],
            )

    async def delete(self, article_id: ArticleId) -> None:
        # Comments, favorites and tag links go with it: ON DELETE CASCADE.
        await self._connection.execute(delete(articles).where(articles.c.id == article_id))

    async def get_by_slug(self, slug: str) -> Article | None:
        if "\x00" in slug:
            return None  # Postgres text cannot hold NUL: nothing can match
        row = (
            await self._connection.execute(select(articles).where(articles.c.slug == slug))
        ).one_or_none()
        if row is None:
            return None
        tags = (
            await self._connection.scalars(
                select(article_tags.c.tag).where(article_tags.c.article_id == row.id)
            )
        ).all()
        return article_from_row(row, tags)

    async def slug_exists(self, slug: str) -> bool:
        if "\x00" in slug:
            return False
        result = await self._connection.execute(_SLUG_EXISTS, {"slug": slug})
        return bool(result.scalar())


class SqlCommentRepository:
    def __init__(self, connection: Statements) -> None:
        self._connection = connection

    async def add(self, comment: Comment) -> Comment:
        result = await execute_mapped(
            self._connection,
            insert(comments)
            .values(
                article_id=comment.article_id,
                author_id=comment.author_id,
                body=comment.body,
                created_at=comment.created_at,
                updated_at=comment.updated_at,
            )
            .returning(comments.c.id),
        )
        new_id = CommentId(int(result.scalar_one()))
        return Comment(
            new_id,
            comment.article_id,
            comment.author_id,
            comment.body,
            comment.created_at,
            comment.updated_at,
        )

    async def get(self, comment_id: CommentId) -> Comment | None:
        row = (
            await self._connection.execute(select(comments).where(comments.c.id == comment_id))
        ).one_or_none()
        return None if row is None else comment_from_row(row)

    async def delete(self, comment_id: CommentId) -> None:
        await self._connection.execute(delete(comments).where(comments.c.id == comment_id))


class SqlFavoriteRepository:
    def __init__(self, connection: Statements) -> None:
        self._connection = connection

    async def add(self, user_id: UserId, article_id: ArticleId) -> None:
        # One statement, and the primary key decides: no read-modify-write under concurrency.
        # The article deleted meanwhile: its foreign key fails, mapped to ArticleNotFound.
        statement = insert_ignoring_duplicates(self._connection, favorites).values(
            user_id=user_id, article_id=article_id, created_at=datetime.now(UTC)
        )
        await execute_mapped(self._connection, statement)

    async def remove(self, user_id: UserId, article_id: ArticleId) -> None:
        await self._connection.execute(
            delete(favorites).where(
                favorites.c.user_id == user_id, favorites.c.article_id == article_id
            )
        )
