"""Ports of the articles context: write repositories and the read-side query port."""

from __future__ import annotations

from typing import Protocol

from core.articles.model import Article, Comment
from core.articles.views import ArticleFilter, ArticleView, CommentView
from core.profiles.views import ProfileView
from core.shared.events import DomainEvent
from core.shared.ids import ArticleId, CommentId, UserId
from core.shared.pagination import Page, PageRequest
from core.users.ports import UsersTransaction


class ArticleRepository(Protocol):
    """Articles with their tags. Slugs are unique: `add` of a taken slug raises SlugTaken and
    leaves the transaction usable (the caller may add it again under another slug; a writer
    holding the slug uncommitted is waited for), `update` to a taken slug fails at latest on
    commit with SlugTaken; `add` by an author who does not exist raises UserNotFound;
    `delete` also removes the article's comments, favorites and tag links; `update` of an
    article that is gone (deleted by someone else meanwhile) raises ArticleNotFound.
    `add` returns its author's profile as this transaction sees it (`following` false: one's
    own), so that a new article's view needs no read back: everything else in it is known;
    `announcing`, an event about the new article, is recorded as `Transaction.record` would,
    once the article is written (never when `add` raises), so a storage may write its outbox
    rows in the same statement as the article."""

    async def add(
        self, article: Article, *, announcing: DomainEvent | None = None
    ) -> ProfileView: ...
    async def update(self, article: Article) -> None: ...
    async def delete(self, article_id: ArticleId) -> None: ...
    async def get_by_slug(self, slug: str) -> Article | None: ...
    async def slug_exists(self, slug: str) -> bool: ...


class CommentRepository(Protocol):
    """Comments. `add` returns the comment with its storage-assigned, increasing id, and raises
    ArticleNotFound when the article is gone (deleted by someone else meanwhile)."""

    async def add(self, comment: Comment) -> Comment: ...
    async def get(self, comment_id: CommentId) -> Comment | None: ...
    async def delete(self, comment_id: CommentId) -> None: ...


class FavoriteRepository(Protocol):
    """Who favorited what. `add` and `remove` are idempotent; `add` raises ArticleNotFound when
    the article is gone (deleted by someone else meanwhile); counting is the read side's job."""

    async def add(self, user_id: UserId, article_id: ArticleId) -> None: ...
    async def remove(self, user_id: UserId, article_id: ArticleId) -> None: ...


class ArticlesTransaction(UsersTransaction, Protocol):
    """What the articles context's use cases need of a transaction."""

    @property
    def articles(self) -> ArticleRepository: ...
    @property
    def comments(self) -> CommentRepository: ...
    @property
    def favorites(self) -> FavoriteRepository: ...


class ArticleQueries(Protocol):
    """Read side. Lists are newest first (created_at, then id, descending); `Page.total` counts
    every match; `favorited`, `favorites_count` and `following` are exact for the viewer;
    tags sorted by name; a fixed number of statements per call, whatever the page size."""

    async def get_article(self, slug: str, viewer: UserId | None) -> ArticleView | None: ...
    async def viewer_flags(self, slug: str, viewer: UserId) -> tuple[bool, bool] | None:
        """(favorited, following the author) for the viewer; None if no such article."""
        ...

    async def list_articles(
        self, filters: ArticleFilter, page: PageRequest, viewer: UserId | None
    ) -> Page[ArticleView]:
        """Items carry no body (`body` is ""): a list never shows it, so no adapter reads or
        stores it. The same for `feed`."""
        ...

    async def feed(self, viewer: UserId, page: PageRequest) -> Page[ArticleView]: ...
    async def list_comments(self, slug: str, viewer: UserId | None) -> list[CommentView] | None:
        """Newest first (created_at, then id, descending); None when the article does not exist."""
        ...

    async def get_comment(
        self, comment_id: CommentId, viewer: UserId | None
    ) -> CommentView | None: ...
    async def list_tags(self) -> list[str]:
        """Every tag used by at least one article, sorted by name."""
        ...
