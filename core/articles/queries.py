"""Read use cases of the articles context.

ListArticles, Feed and ListTags only forward to the ArticleQueries port.
"""

from __future__ import annotations

from core.articles.errors import ArticleNotFound
from core.articles.ports import ArticleQueries
from core.articles.views import ArticleFilter, ArticleView, CommentView
from core.shared.ids import UserId
from core.shared.pagination import Page, PageRequest


class ListArticles:
    """Articles newest first, filtered by `tag`, `author` and `favorited` (a username, matched
    regardless of case), which combine. `articlesCount` is the number of all matches, not of
    this page."""

    def __init__(self, queries: ArticleQueries) -> None:
        self._queries = queries

    async def execute(
        self, filters: ArticleFilter, page: PageRequest, viewer: UserId | None
    ) -> Page[ArticleView]:
        return await self._queries.list_articles(filters, page, viewer)


class Feed:
    """Articles by the authors the caller follows, newest first."""

    def __init__(self, queries: ArticleQueries) -> None:
        self._queries = queries

    async def execute(self, viewer: UserId, page: PageRequest) -> Page[ArticleView]:
        return await self._queries.feed(viewer, page)


class GetArticle:
    """One article by slug."""

    def __init__(self, queries: ArticleQueries) -> None:
        self._queries = queries

    async def execute(self, slug: str, viewer: UserId | None) -> ArticleView:
        view = await self._queries.get_article(slug, viewer)
        if view is None:
            raise ArticleNotFound()
        return view


class ListComments:
    """An article's comments, newest first."""

    def __init__(self, queries: ArticleQueries) -> None:
        self._queries = queries

    async def execute(self, slug: str, viewer: UserId | None) -> list[CommentView]:
        comments = await self._queries.list_comments(slug, viewer)
        if comments is None:
            raise ArticleNotFound()
        return comments


class ListTags:
    """Every tag in use, sorted by name."""

    def __init__(self, queries: ArticleQueries) -> None:
        self._queries = queries

    async def execute(self) -> list[str]:
        return await self._queries.list_tags()
