"""Read side in SQL: views with viewer-relative flags in a fixed number of statements.

An article, or a list page whatever its length, is one statement: author, favorite count,
`favorited`, `following` and the tags as correlated subqueries, and on a list page the number
of all matches as a window count over them. A page past the end has no row to carry the
count: only then a second statement counts.

Each call takes a read connection (adapters.sql.engine.Reads): on Postgres its statements run
in autocommit, without BEGIN/COMMIT round trips, so two statements of one call may see
different committed states (a comment list is read after the article's id); a page, its
total and its tags, being one statement, always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, ColumnElement, Row, Select, String, and_, exists, false, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import Reads
from adapters.sql.rows import user_from_row
from adapters.sql.tables import article_tags, articles, comments, favorites, follows, users
from core.articles.views import ArticleFilter, ArticleView, CommentView
from core.auth.ports import UserFilter
from core.profiles.views import ProfileView
from core.shared.ids import CommentId, UserId
from core.shared.pagination import Page, PageRequest
from core.users.model import User


def _storable(*values: str | None) -> bool:
    """Postgres text cannot hold NUL, and asyncpg refuses such a parameter: a lookup with one
    can match nothing, so answer that without asking the database."""
    return not any(v is not None and "\x00" in v for v in values)


def _following(viewer: UserId | None, author_id: Any) -> ColumnElement[bool]:
    if viewer is None:
        return false()
    return exists().where(follows.c.follower_id == viewer, follows.c.followee_id == author_id)


# Every column is labelled with the field name of the view it fills (an author's with an
# `author_` prefix), so a row maps to its view by name: a field added to a view and to its
# table needs no change here.
_AUTHOR = "author_"
_TOTAL = "total_matches"  # the window count of a list page's query
_TAGS = "tag_list"  # an article's tags, aggregated (sorted when the view is built)
_PROFILE_USER_COLUMNS = tuple(
    users.c[name] for name in ProfileView.field_names() if name in users.c
)
_ARTICLE_VIEW_COLUMNS = tuple(
    articles.c[name] for name in ArticleView.field_names() if name in articles.c
)
_COMMENT_VIEW_COLUMNS = tuple(
    comments.c[name] for name in CommentView.field_names() if name in comments.c
)


def _profile_columns(
    viewer: UserId | None, user_id: Any, prefix: str = ""
) -> list[ColumnElement[Any]]:
    """A ProfileView's fields for the user `user_id` (a column of the joined `users`)."""
    return [
        *(column.label(prefix + column.key) for column in _PROFILE_USER_COLUMNS),
        _following(viewer, user_id).label(prefix + "following"),
    ]


def _tag_list(dialect: str) -> ColumnElement[Any]:
    """An article's tags in one column, arriving as a list (None or [] without tags): a text[]
    on Postgres, a JSON array on SQLite. One indexed lookup per row, no statement of its own."""
    tag = article_tags.c.tag
    aggregate = (
        func.array_agg(tag, type_=postgresql.ARRAY(String))
        if dialect == "postgresql"
        else func.json_group_array(tag, type_=JSON)
    )
    return select(aggregate).where(article_tags.c.article_id == articles.c.id).scalar_subquery()


def _article_columns(viewer: UserId | None, dialect: str) -> Select[Any]:
    favorites_count = (
        select(func.count())
        .select_from(favorites)
        .where(favorites.c.article_id == articles.c.id)
        .scalar_subquery()
    )
    favorited: ColumnElement[bool] = (
        false()
        if viewer is None
        else exists().where(favorites.c.article_id == articles.c.id, favorites.c.user_id == viewer)
    )
    return select(
        articles.c.id,
        *_ARTICLE_VIEW_COLUMNS,
        favorites_count.label("favorites_count"),
        favorited.label("favorited"),
        _tag_list(dialect).label(_TAGS),
        *_profile_columns(viewer, articles.c.author_id, _AUTHOR),
    ).join(users, users.c.id == articles.c.author_id)


def _article_view(row: Row[Any]) -> ArticleView:
    fields = row._mapping
    # Sorted here as the entity sorts them (rows.article_from_row), whatever the collation.
    tags = tuple(sorted(fields[_TAGS] or ()))
    return ArticleView.of(fields, tags=tags, author=ProfileView.of(fields, prefix=_AUTHOR))


class SqlArticleQueries:
    """ArticleQueries in SQL; each call uses its own short read connection."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._reads = Reads(engine)
        self._dialect = engine.dialect.name

    async def get_article(self, slug: str, viewer: UserId | None) -> ArticleView | None:
        if not _storable(slug):
            return None
        query = _article_columns(viewer, self._dialect).where(articles.c.slug == slug)
        async with self._reads.connect() as connection:
            row = (await connection.execute(query)).one_or_none()
        return None if row is None else _article_view(row)

    async def viewer_flags(self, slug: str, viewer: UserId) -> tuple[bool, bool] | None:
        if not _storable(slug):
            return None
        favorited = exists().where(
            favorites.c.article_id == articles.c.id, favorites.c.user_id == viewer
        )
        query = select(
            favorited.label("favorited"),
            _following(viewer, articles.c.author_id).label("following"),
        ).where(articles.c.slug == slug)
        async with self._reads.connect() as connection:
            row = (await connection.execute(query)).one_or_none()
        return None if row is None else (bool(row.favorited), bool(row.following))

    async def _page(
        self, conditions: list[ColumnElement[bool]], page: PageRequest, viewer: UserId | None
    ) -> Page[ArticleView]:
        where = and_(*conditions) if conditions else None
        # The window count runs over every match before LIMIT/OFFSET: the total rides along.
        rows_query = _article_columns(viewer, self._dialect).add_columns(
            func.count().over().label(_TOTAL)
        )
        if where is not None:
            rows_query = rows_query.where(where)
        rows_query = (
            rows_query.order_by(articles.c.created_at.desc(), articles.c.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        async with self._reads.connect() as connection:
            rows = (await connection.execute(rows_query)).all()
            if rows:
                total = int(rows[0]._mapping[_TOTAL])
            elif page.offset == 0:
                total = 0
            else:  # past the end: no row carries the count
                count_query = select(func.count()).select_from(
                    articles.join(users, users.c.id == articles.c.author_id)
                )
                if where is not None:
                    count_query = count_query.where(where)
                total = int((await connection.execute(count_query)).scalar_one())
        views = tuple(_article_view(row) for row in rows)
        return Page(views, total)

    async def list_articles(
        self, filters: ArticleFilter, page: PageRequest, viewer: UserId | None
    ) -> Page[ArticleView]:
        if not _storable(filters.tag, filters.author, filters.favorited_by):
            return Page((), 0)
        conditions: list[ColumnElement[bool]] = []
        if filters.tag is not None:
            conditions.append(
                articles.c.id.in_(
                    select(article_tags.c.article_id).where(article_tags.c.tag == filters.tag)
                )
            )
        if filters.author is not None:
            conditions.append(users.c.username == filters.author)
        if filters.favorited_by is not None:
            fans = users.alias("fans")
            conditions.append(
                articles.c.id.in_(
                    select(favorites.c.article_id)
                    .join(fans, fans.c.id == favorites.c.user_id)
                    .where(fans.c.username == filters.favorited_by)
                )
            )
        return await self._page(conditions, page, viewer)

    async def feed(self, viewer: UserId, page: PageRequest) -> Page[ArticleView]:
        followed = select(follows.c.followee_id).where(follows.c.follower_id == viewer)
        return await self._page([articles.c.author_id.in_(followed)], page, viewer)

    def _comments_query(self, viewer: UserId | None) -> Select[Any]:
        return select(
            *_COMMENT_VIEW_COLUMNS, *_profile_columns(viewer, comments.c.author_id, _AUTHOR)
        ).join(users, users.c.id == comments.c.author_id)

    async def list_comments(self, slug: str, viewer: UserId | None) -> list[CommentView] | None:
        if not _storable(slug):
            return None
        async with self._reads.connect() as connection:
            article_id = (
                await connection.execute(select(articles.c.id).where(articles.c.slug == slug))
            ).scalar_one_or_none()
            if article_id is None:
                return None
            rows = await connection.execute(
                self._comments_query(viewer)
                .where(comments.c.article_id == article_id)
                .order_by(comments.c.created_at.desc(), comments.c.id.desc())
            )
            return [_comment_view(row) for row in rows]

    async def get_comment(self, comment_id: CommentId, viewer: UserId | None) -> CommentView | None:
        async with self._reads.connect() as connection:
            row = (
                await connection.execute(
                    self._comments_query(viewer).where(comments.c.id == comment_id)
                )
            ).one_or_none()
        return None if row is None else _comment_view(row)

    async def list_tags(self) -> list[str]:
        async with self._reads.connect() as connection:
            result = await connection.scalars(
                select(article_tags.c.tag).distinct().order_by(article_tags.c.tag)
            )
            return list(result.all())


def _comment_view(row: Row[Any]) -> CommentView:
    fields = row._mapping
    return CommentView.of(fields, author=ProfileView.of(fields, prefix=_AUTHOR))


class SqlProfileQueries:
    """ProfileQueries in SQL: one statement."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._reads = Reads(engine)

    async def get_profile(self, username: str, viewer: UserId | None) -> ProfileView | None:
        if not _storable(username):
            return None
        query = select(*_profile_columns(viewer, users.c.id)).where(users.c.username == username)
        async with self._reads.connect() as connection:
            row = (await connection.execute(query)).one_or_none()
        return None if row is None else ProfileView.of(row._mapping)

    async def is_following(self, username: str, viewer: UserId) -> bool:
        if not _storable(username):
            return False
        followee = select(users.c.id).where(users.c.username == username).scalar_subquery()
        query = select(
            exists().where(follows.c.follower_id == viewer, follows.c.followee_id == followee)
        )
        async with self._reads.connect() as connection:
            return bool((await connection.execute(query)).scalar())


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlUserDirectory:
    """UserDirectory in SQL: keyset pagination on the (time-ordered) id."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._reads = Reads(engine)

    async def list_users(
        self, filters: UserFilter, after: UserId | None, limit: int
    ) -> Sequence[User]:
        if not _storable(filters.query):
            return []
        query = select(users).order_by(users.c.id).limit(limit)
        if after is not None:
            query = query.where(users.c.id > after)
        if filters.role is not None:
            query = query.where(users.c.role == filters.role.value)
        if filters.active is not None:
            query = query.where(users.c.active == filters.active)
        if filters.query:
            pattern = f"%{_like_escape(filters.query.lower())}%"
            query = query.where(
                func.lower(users.c.username).like(pattern, escape="\\")
                | func.lower(users.c.email).like(pattern, escape="\\")
            )
        async with self._reads.connect() as connection:
            rows = await connection.execute(query)
            return [user_from_row(row) for row in rows]
