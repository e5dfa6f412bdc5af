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

import functools
import operator
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal_column,
    select,
)
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
from core.users.model import User, username_key


def _key(username: str | None) -> str | None:
    return None if username is None else username_key(username)


def _storable(*values: str | None) -> bool:
    """Postgres text cannot hold NUL, and asyncpg refuses such a parameter: a lookup with one
    can match nothing, so answer that without asking the database."""
    return not any(v is not None and "\x00" in v for v in values)


# Statements are built once per shape and cached: values travel as bound parameters. Building
# a statement (and SQLAlchemy's cache key of a fresh one) cost more CPU than running it: about
# 15 % of an authenticated list request, more than the rest of the read side together.
_VIEWER = "viewer"


def _viewer_param() -> BindParameter[Any]:
    return bindparam(_VIEWER, type_=users.c.id.type)


def _following(signed_in: bool, author_id: Any) -> ColumnElement[bool]:
    if not signed_in:
        return false()
    return exists().where(
        follows.c.follower_id == _viewer_param(), follows.c.followee_id == author_id
    )


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


def _profile_columns(signed_in: bool, user_id: Any, prefix: str = "") -> list[ColumnElement[Any]]:
    """A ProfileView's fields for the user `user_id` (a column of the joined `users`)."""
    return [
        *(column.label(prefix + column.key) for column in _PROFILE_USER_COLUMNS),
        _following(signed_in, user_id).label(prefix + "following"),
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


def _article_columns(signed_in: bool, dialect: str, *, body: bool = True) -> Select[Any]:
    """An article's view columns; a list page's (`body=False`) read an empty body instead of
    the article's, which a list never shows (ArticleQueries.list_articles)."""
    favorites_count = (
        select(func.count())
        .select_from(favorites)
        .where(favorites.c.article_id == articles.c.id)
        .scalar_subquery()
    )
    favorited: ColumnElement[bool] = (
        exists().where(
            favorites.c.article_id == articles.c.id, favorites.c.user_id == _viewer_param()
        )
        if signed_in
        else false()
    )
    columns = [
        c if body or c.key != "body" else literal_column("''").label("body")
        for c in _ARTICLE_VIEW_COLUMNS
    ]
    return select(
        articles.c.id,
        *columns,
        favorites_count.label("favorites_count"),
        favorited.label("favorited"),
        _tag_list(dialect).label(_TAGS),
        *_profile_columns(signed_in, articles.c.author_id, _AUTHOR),
    ).join(users, users.c.id == articles.c.author_id)


@functools.cache
def _article_by_slug(signed_in: bool, dialect: str) -> Select[Any]:
    return _article_columns(signed_in, dialect).where(articles.c.slug == bindparam("slug"))


@functools.cache
def _viewer_flags() -> Select[bool, bool]:
    favorited = exists().where(
        favorites.c.article_id == articles.c.id, favorites.c.user_id == _viewer_param()
    )
    return select(
        favorited.label("favorited"),
        _following(True, articles.c.author_id).label("following"),
    ).where(articles.c.slug == bindparam("slug"))


@functools.cache
def _page_conditions(
    tag: bool, author: bool, favorited_by: bool, feed: bool
) -> ColumnElement[bool] | None:
    """What a list page matches: each filter given, as bound parameters of the same names."""
    conditions: list[ColumnElement[bool]] = []
    if tag:
        conditions.append(
            articles.c.id.in_(
                select(article_tags.c.article_id).where(article_tags.c.tag == bindparam("tag"))
            )
        )
    if author:
        conditions.append(users.c.username_key == bindparam("author"))
    if favorited_by:
        fans = users.alias("fans")
        conditions.append(
            articles.c.id.in_(
                select(favorites.c.article_id)
                .join(fans, fans.c.id == favorites.c.user_id)
                .where(fans.c.username_key == bindparam("favorited_by"))
            )
        )
    if feed:
        followed = select(follows.c.followee_id).where(
            follows.c.follower_id == bindparam("feed_of", type_=users.c.id.type)
        )
        conditions.append(articles.c.author_id.in_(followed))
    return and_(*conditions) if conditions else None


@functools.cache
def _page_rows(signed_in: bool, dialect: str, matching: _PageShape) -> Select[Any]:
    # The window count runs over every match before LIMIT/OFFSET: the total rides along.
    query = _article_columns(signed_in, dialect, body=False).add_columns(
        func.count().over().label(_TOTAL)
    )
    where = _page_conditions(*matching)
    if where is not None:
        query = query.where(where)
    return (
        query.order_by(articles.c.created_at.desc(), articles.c.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


@functools.cache
def _page_count(matching: _PageShape) -> Select[Any]:
    query = select(func.count().label(_TOTAL)).select_from(
        articles.join(users, users.c.id == articles.c.author_id)
    )
    where = _page_conditions(*matching)
    return query if where is None else query.where(where)


_PageShape = tuple[bool, bool, bool, bool]  # tag, author, favorited_by, feed


def _article_view(fields: Mapping[str, Any]) -> ArticleView:
    # Sorted here as the entity sorts them (rows.article_from_row), whatever the collation.
    tags = tuple(sorted(fields[_TAGS] or ()))
    return ArticleView.of(fields, tags=tags, author=ProfileView.of(fields, prefix=_AUTHOR))


_BUILD_ARTICLE = ArticleView.of_rows("tags", "author")
_BUILD_AUTHOR = ProfileView.of_rows(prefix=_AUTHOR)
_AUTHOR_OF = operator.itemgetter(*(_AUTHOR + name for name in ProfileView.field_names()))


def _article_views(rows: Sequence[Any]) -> tuple[ArticleView, ...]:
    """`_article_view` of each row (a dict, or asyncpg's Record: read by label), for a page:
    its articles' authors repeat (a feed has a few), so each author's profile is built once
    per page and shared by their articles (views are immutable values)."""
    authors: dict[tuple[Any, ...], ProfileView] = {}
    views = []
    for row in rows:
        key = _AUTHOR_OF(row)
        author = authors.get(key)
        if author is None:
            author = authors[key] = _BUILD_AUTHOR(row, {})
        tags = row[_TAGS]
        given = {"tags": tuple(sorted(tags)) if tags else (), "author": author}
        views.append(_BUILD_ARTICLE(row, given))
    return tuple(views)


@functools.cache
def _comments(signed_in: bool, by: str) -> Select[Any]:
    """Comments with their authors: of an article (`by="article"`) or one (`by="id"`)."""
    query = select(
        *_COMMENT_VIEW_COLUMNS, *_profile_columns(signed_in, comments.c.author_id, _AUTHOR)
    ).join(users, users.c.id == comments.c.author_id)
    if by == "id":
        return query.where(comments.c.id == bindparam("comment_id"))
    return query.where(comments.c.article_id == bindparam("article_id")).order_by(
        comments.c.created_at.desc(), comments.c.id.desc()
    )


_ARTICLE_ID_BY_SLUG = select(articles.c.id).where(articles.c.slug == bindparam("slug"))
_TAG_NAMES = select(article_tags.c.tag).distinct().order_by(article_tags.c.tag)


def _viewed_by(viewer: UserId | None, **params: Any) -> dict[str, Any]:
    return params if viewer is None else {**params, _VIEWER: viewer}


class SqlArticleQueries:
    """ArticleQueries in SQL; each call uses its own short read connection."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._reads = Reads(engine)
        self._dialect = engine.dialect.name

    async def get_article(self, slug: str, viewer: UserId | None) -> ArticleView | None:
        if not _storable(slug):
            return None
        query = _article_by_slug(viewer is not None, self._dialect)
        async with self._reads.connect() as connection:
            rows = await connection.rows(query, _viewed_by(viewer, slug=slug))
        return _article_view(rows[0]) if rows else None

    async def viewer_flags(self, slug: str, viewer: UserId) -> tuple[bool, bool] | None:
        if not _storable(slug):
            return None
        async with self._reads.connect() as connection:
            rows = await connection.rows(_viewer_flags(), _viewed_by(viewer, slug=slug))
        return (bool(rows[0]["favorited"]), bool(rows[0]["following"])) if rows else None

    async def _page(
        self,
        matching: _PageShape,
        params: dict[str, Any],
        page: PageRequest,
        viewer: UserId | None,
    ) -> Page[ArticleView]:
        rows_query = _page_rows(viewer is not None, self._dialect, matching)
        async with self._reads.connect() as connection:
            rows = await connection.records(
                rows_query, _viewed_by(viewer, limit=page.limit, offset=page.offset, **params)
            )
            if rows:
                total = int(rows[0][_TOTAL])
            elif page.offset == 0:
                total = 0
            else:  # past the end: no row carries the count
                total = int((await connection.rows(_page_count(matching), params))[0][_TOTAL])
        return Page(_article_views(rows), total)

    async def list_articles(
        self, filters: ArticleFilter, page: PageRequest, viewer: UserId | None
    ) -> Page[ArticleView]:
        if not _storable(filters.tag, filters.author, filters.favorited_by):
            return Page((), 0)
        given = {  # users by username_key: case-insensitive, as the profile lookups
            "tag": filters.tag,
            "author": _key(filters.author),
            "favorited_by": _key(filters.favorited_by),
        }
        params = {name: value for name, value in given.items() if value is not None}
        matching = ("tag" in params, "author" in params, "favorited_by" in params, False)
        return await self._page(matching, params, page, viewer)

    async def feed(self, viewer: UserId, page: PageRequest) -> Page[ArticleView]:
        # The feed's own condition takes the viewer too, so the count needs it as well.
        return await self._page((False, False, False, True), {"feed_of": viewer}, page, viewer)

    async def list_comments(self, slug: str, viewer: UserId | None) -> list[CommentView] | None:
        if not _storable(slug):
            return None
        async with self._reads.connect() as connection:
            found = await connection.rows(_ARTICLE_ID_BY_SLUG, {"slug": slug})
            if not found:
                return None
            rows = await connection.rows(
                _comments(viewer is not None, "article"),
                _viewed_by(viewer, article_id=found[0]["id"]),
            )
        return [_comment_view(row) for row in rows]

    async def get_comment(self, comment_id: CommentId, viewer: UserId | None) -> CommentView | None:
        async with self._reads.connect() as connection:
            rows = await connection.rows(
                _comments(viewer is not None, "id"), _viewed_by(viewer, comment_id=comment_id)
            )
        return _comment_view(rows[0]) if rows else None

    async def list_tags(self) -> list[str]:
        async with self._reads.connect() as connection:
            rows = await connection.rows(_TAG_NAMES)
        return [row["tag"] for row in rows]


def _comment_view(fields: Mapping[str, Any]) -> CommentView:
    return CommentView.of(fields, author=ProfileView.of(fields, prefix=_AUTHOR))


@functools.cache
def _profile_by_username(signed_in: bool) -> Select[Any]:
    return select(*_profile_columns(signed_in, users.c.id)).where(
        users.c.username_key == bindparam("username")
    )


_IS_FOLLOWING = select(
    exists()
    .where(
        follows.c.follower_id == _viewer_param(),
        follows.c.followee_id
        == select(users.c.id)
        .where(users.c.username_key == bindparam("username"))
        .scalar_subquery(),
    )
    .label("following")
)


class SqlProfileQueries:
    """ProfileQueries in SQL: one statement."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._reads = Reads(engine)

    async def get_profile(self, username: str, viewer: UserId | None) -> ProfileView | None:
        if not _storable(username):
            return None
        query = _profile_by_username(viewer is not None)
        async with self._reads.connect() as connection:
            rows = await connection.rows(query, _viewed_by(viewer, username=username_key(username)))
        return ProfileView.of(rows[0]) if rows else None

    async def is_following(self, username: str, viewer: UserId) -> bool:
        if not _storable(username):
            return False
        async with self._reads.connect() as connection:
            rows = await connection.rows(
                _IS_FOLLOWING, _viewed_by(viewer, username=username_key(username))
            )
        return bool(rows[0]["following"])


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
            return [user_from_row(row._mapping) for row in rows]
