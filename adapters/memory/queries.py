"""In-memory read side over the committed MemoryDatabase state."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.memory.store import MemoryDatabase, MemoryState, by_username
from core.articles.model import Article, Comment
from core.articles.views import ArticleFilter, ArticleView, CommentView
from core.auth.ports import UserFilter
from core.profiles.views import ProfileView
from core.shared.ids import CommentId, UserId
from core.shared.pagination import Page, PageRequest
from core.users.model import User


def _profile(state: MemoryState, user: User, viewer: UserId | None) -> ProfileView:
    following = viewer is not None and (viewer, user.id) in state.follows
    return ProfileView.of(user, following=following)


def _article_view(
    state: MemoryState, article: Article, viewer: UserId | None, *, body: bool = True
) -> ArticleView:
    count = sum(1 for (_, aid) in state.favorites if aid == article.id)
    favorited = viewer is not None and (viewer, article.id) in state.favorites
    author = state.users[article.author_id]
    return ArticleView.of(
        article,  # the entity's fields by name; the rest is the read side's
        tags=tuple(sorted(article.tags)),  # the SQL read side sorts too, whatever was stored
        favorited=favorited,
        favorites_count=count,
        author=_profile(state, author, viewer),
        **({} if body else {"body": ""}),
    )


def _newest_first(articles: list[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: (a.created_at, a.id), reverse=True)


def _page(
    state: MemoryState, matches: list[Article], page: PageRequest, viewer: UserId | None
) -> Page[ArticleView]:
    ordered = _newest_first(matches)
    window = ordered[page.offset : page.offset + page.limit]
    return Page(tuple(_article_view(state, a, viewer, body=False) for a in window), len(ordered))


def _comment_view(state: MemoryState, comment: Comment, viewer: UserId | None) -> CommentView:
    assert comment.id is not None
    author = state.users[comment.author_id]
    return CommentView.of(comment, author=_profile(state, author, viewer))


class InMemoryArticleQueries:
    """ArticleQueries over the committed in-memory state."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def get_article(self, slug: str, viewer: UserId | None) -> ArticleView | None:
        state = self._db.state
        article = next((a for a in state.articles.values() if a.slug == slug), None)
        return None if article is None else _article_view(state, article, viewer)

    async def viewer_flags(self, slug: str, viewer: UserId) -> tuple[bool, bool] | None:
        state = self._db.state
        article = next((a for a in state.articles.values() if a.slug == slug), None)
        if article is None:
            return None
        return (viewer, article.id) in state.favorites, (viewer, article.author_id) in state.follows

    async def list_articles(
        self, filters: ArticleFilter, page: PageRequest, viewer: UserId | None
    ) -> Page[ArticleView]:
        state = self._db.state
        matches = list(state.articles.values())
        if filters.tag is not None:
            matches = [a for a in matches if filters.tag in a.tags]
        if filters.author is not None:
            author = by_username(state, filters.author)
            matches = [a for a in matches if author is not None and a.author_id == author.id]
        if filters.favorited_by is not None:
            fan = by_username(state, filters.favorited_by)
            matches = [a for a in matches if fan is not None and (fan.id, a.id) in state.favorites]
        return _page(state, matches, page, viewer)

    async def feed(self, viewer: UserId, page: PageRequest) -> Page[ArticleView]:
        state = self._db.state
        followed = {followee for (follower, followee) in state.follows if follower == viewer}
        matches = [a for a in state.articles.values() if a.author_id in followed]
        return _page(state, matches, page, viewer)

    async def list_comments(self, slug: str, viewer: UserId | None) -> list[CommentView] | None:
        state = self._db.state
        article = next((a for a in state.articles.values() if a.slug == slug), None)
        if article is None:
            return None
        comments = [c for c in state.comments.values() if c.article_id == article.id]
        comments.sort(key=lambda c: (c.created_at, c.id or 0), reverse=True)
        return [_comment_view(state, c, viewer) for c in comments]

    async def get_comment(self, comment_id: CommentId, viewer: UserId | None) -> CommentView | None:
        state = self._db.state
        comment = state.comments.get(comment_id)
        return None if comment is None else _comment_view(state, comment, viewer)

    async def list_tags(self) -> list[str]:
        return sorted({tag for a in self._db.state.articles.values() for tag in a.tags})


class InMemoryProfileQueries:
    """ProfileQueries over the committed in-memory state."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def get_profile(self, username: str, viewer: UserId | None) -> ProfileView | None:
        state = self._db.state
        user = by_username(state, username)
        return None if user is None else _profile(state, user, viewer)

    async def is_following(self, username: str, viewer: UserId) -> bool:
        state = self._db.state
        user = by_username(state, username)
        return user is not None and (viewer, user.id) in state.follows


class InMemoryUserDirectory:
    """UserDirectory over the committed in-memory state."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def list_users(
        self, filters: UserFilter, after: UserId | None, limit: int
    ) -> Sequence[User]:
        needle = (filters.query or "").lower()
        found = [
            u
            for u in sorted(self._db.state.users.values(), key=lambda u: u.id)
            if (after is None or u.id > after)
            and (filters.role is None or u.role == filters.role)
            and (filters.active is None or u.active == filters.active)
            and (not needle or needle in u.username.lower() or needle in u.email.lower())
        ]
        return found[:limit]
