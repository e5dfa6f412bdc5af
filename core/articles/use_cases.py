"""Write use cases of the articles context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from core.articles.errors import (
    ArticleNotFound,
    CommentNotFound,
    SlugTaken,
    StaleArticleVersion,
)
from core.articles.model import (
    Article,
    Comment,
    body_of,
    comment_body_of,
    description_of,
    slugify,
    tags_of,
    title_of,
    unique_slug,
)
from core.articles.policies import (
    ensure_can_delete_article,
    ensure_can_delete_comment,
    ensure_can_edit_article,
)
from core.articles.ports import ArticleQueries, ArticleRepository, ArticlesTransaction
from core.articles.views import ArticleView, CommentView
from core.shared.clock import Clock
from core.shared.events import (
    ArticleDeleted,
    ArticleEdited,
    ArticlePublished,
    CommentsChanged,
    FavoritesChanged,
)
from core.shared.ids import ArticleId, CommentId, UserId, new_article_id
from core.shared.uow import UnitOfWork
from core.users.model import Actor

# Tries of a write whose slug another writer may take at the same time: the plain slug, then
# the id-suffixed one (a create draws a new id for each further try).
SLUG_ATTEMPTS = 3


async def _free_slug(
    articles: ArticleRepository,
    title: str,
    article_id: ArticleId,
    current: str | None = None,
    *,
    suffixed: bool = False,
) -> str:
    """The plain slug of the title when free (or already this article's), else one with an id
    suffix; `suffixed` skips a plain one not already this article's (a retry after losing it
    to a concurrent writer).
    The unique constraint still decides under a race (SlugTaken, at the write or on commit)."""
    slug = slugify(title)
    if slug and (slug == current or (not suffixed and not await articles.slug_exists(slug))):
        return slug
    return unique_slug(title, article_id)


async def _view_after_write(queries: ArticleQueries, slug: str, viewer: UserId) -> ArticleView:
    view = await queries.get_article(slug, viewer)
    if view is None:  # deleted by someone else right after our commit
        raise ArticleNotFound()
    return view


def _published(article: Article) -> ArticlePublished:
    return ArticlePublished(article.slug, article.id, article.author_id, article.title)


@dataclass(frozen=True, slots=True)
class PublishArticleInput:
    title: str
    description: str
    body: str
    tags: Sequence[str] = ()


class PublishArticle:
    """Publish an article for the caller.

    - title, description and body are required (not blank)
    - the slug derives from the title; a title already in use gets a distinct slug
    - tags are trimmed, de-duplicated and sorted by name
    """

    def __init__(self, uow: UnitOfWork[ArticlesTransaction], clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, actor: Actor, data: PublishArticleInput) -> ArticleView:
        title, description = title_of(data.title), description_of(data.description)
        body, tags = body_of(data.body), tags_of(data.tags)
        now = self._clock.now()
        for attempt in range(SLUG_ATTEMPTS):
            # A title in use gets the id-suffixed slug in the same transaction (below); a
            # suffixed slug taken too (ids are random: in theory only) retries with a new id.
            article_id = new_article_id()
            try:
                async with self._uow.begin() as tx:
                    # The plain slug first: `add` of a taken one raises SlugTaken and the
                    # transaction goes on with the id-suffixed one. An author who is gone
                    # raises UserNotFound from `add` (no read of the user first).
                    plain = "" if attempt > 0 else slugify(title)
                    slug = plain or unique_slug(title, article_id)
                    article = Article(
                        article_id, actor.user_id, slug, title, description, body, tags, now, now
                    )
                    try:
                        author = await tx.articles.add(article, announcing=_published(article))
                    except SlugTaken:
                        if not plain:
                            raise
                        article = replace(article, slug=unique_slug(title, article_id))
                        author = await tx.articles.add(article, announcing=_published(article))
                    await tx.commit()
                break
            except SlugTaken:
                if attempt == SLUG_ATTEMPTS - 1:
                    raise
        # No read back: a new article's view is known (nobody can have favorited it yet).
        return ArticleView.of(article, favorited=False, favorites_count=0, author=author)


@dataclass(frozen=True, slots=True)
class EditArticleInput:
    """Fields to change; None leaves a field as it is."""

    title: str | None = None
    description: str | None = None
    body: str | None = None
    tags: Sequence[str] | None = None
    # Optimistic concurrency: the content versions the caller read before editing; None = any.
    if_version: frozenset[str] | None = None


class EditArticle:
    """Edit an article.

    - only its author may edit it
    - a new title gives a new slug (distinct if the plain one is taken)
    - tags, when given, replace the current ones
    - given the versions the caller read, an edit of an article changed since then fails and
      writes nothing
    """

    def __init__(
        self, uow: UnitOfWork[ArticlesTransaction], queries: ArticleQueries, clock: Clock
    ) -> None:
        self._uow, self._queries, self._clock = uow, queries, clock

    async def execute(self, actor: Actor, slug: str, data: EditArticleInput) -> ArticleView:
        title = None if data.title is None else title_of(data.title)
        description = None if data.description is None else description_of(data.description)
        body = None if data.body is None else body_of(data.body)
        tags = None if data.tags is None else tags_of(data.tags)
        # Concurrent renames to one title all see its slug free; the losers retry, in a new
        # transaction (reading the article again), with the id-suffixed slug. The id is the
        # article's own, so a suffixed slug taken as well stays taken: one retry.
        for attempt in range(2):
            try:
                edited = await self._edit(
                    actor, slug, data.if_version, title, description, body, tags, attempt > 0
                )
                break
            except SlugTaken:
                if attempt == 1:
                    raise
        return await _view_after_write(self._queries, edited.slug, actor.user_id)

    async def _edit(
        self,
        actor: Actor,
        slug: str,
        if_version: frozenset[str] | None,
        title: str | None,
        description: str | None,
        body: str | None,
        tags: tuple[str, ...] | None,
        suffixed: bool,
    ) -> Article:
        async with self._uow.begin() as tx:
            article = await tx.articles.get_by_slug(slug)
            if article is None:
                raise ArticleNotFound()
            ensure_can_edit_article(actor, article)
            if if_version is not None and article.version not in if_version:
                raise StaleArticleVersion()
            new_slug = None
            if title is not None and title != article.title:
                new_slug = await _free_slug(
                    tx.articles, title, article.id, current=article.slug, suffixed=suffixed
                )
            edited = article.edited(
                now=self._clock.now(),
                slug=new_slug,
                title=title,
                description=description,
                body=body,
                tags=tags,
            )
            await tx.articles.update(edited)
            tx.record(ArticleEdited(article.slug, edited.slug, article.id, edited.title))
            await tx.commit()
        return edited


class DeleteArticle:
    """Delete an article with its comments and favorites. Its author, moderators and admins may."""

    def __init__(self, uow: UnitOfWork[ArticlesTransaction]) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, slug: str) -> None:
        async with self._uow.begin() as tx:
            article = await tx.articles.get_by_slug(slug)
            if article is None:
                raise ArticleNotFound()
            ensure_can_delete_article(actor, article)
            await tx.articles.delete(article.id)
            tx.record(ArticleDeleted(article.slug, article.id))
            await tx.commit()


class FavoriteArticle:
    """Favorite an article. Idempotent; the count stays exact under concurrent callers."""

    def __init__(self, uow: UnitOfWork[ArticlesTransaction], queries: ArticleQueries) -> None:
        self._uow, self._queries = uow, queries

    async def execute(self, actor: Actor, slug: str) -> ArticleView:
        async with self._uow.begin() as tx:
            article = await tx.articles.get_by_slug(slug)
            if article is None:
                raise ArticleNotFound()
            await tx.favorites.add(actor.user_id, article.id)
            tx.record(FavoritesChanged(article.slug, article.id, actor.user_id, favorited=True))
            await tx.commit()
        return await _view_after_write(self._queries, slug, actor.user_id)


class UnfavoriteArticle:
    """Remove the caller's favorite. Idempotent."""

    def __init__(self, uow: UnitOfWork[ArticlesTransaction], queries: ArticleQueries) -> None:
        self._uow, self._queries = uow, queries

    async def execute(self, actor: Actor, slug: str) -> ArticleView:
        async with self._uow.begin() as tx:
            article = await tx.articles.get_by_slug(slug)
            if article is None:
                raise ArticleNotFound()
            await tx.favorites.remove(actor.user_id, article.id)
            tx.record(FavoritesChanged(article.slug, article.id, actor.user_id, favorited=False))
            await tx.commit()
        return await _view_after_write(self._queries, slug, actor.user_id)


class AddComment:
    """Comment on an article. The body is required (not blank)."""

    def __init__(
        self, uow: UnitOfWork[ArticlesTransaction], queries: ArticleQueries, clock: Clock
    ) -> None:
        self._uow, self._queries, self._clock = uow, queries, clock

    async def execute(self, actor: Actor, slug: str, body: str) -> CommentView:
        text = comment_body_of(body)
        now = self._clock.now()
        async with self._uow.begin() as tx:
            article = await tx.articles.get_by_slug(slug)
            if article is None:
                raise ArticleNotFound()
            comment = await tx.comments.add(
                Comment(None, article.id, actor.user_id, text, now, now)
            )
            assert comment.id is not None
            tx.record(CommentsChanged(article.slug, article.id, comment.id, actor.user_id))
            await tx.commit()
        view = await self._queries.get_comment(comment.id, actor.user_id)
        if view is None:
            raise CommentNotFound()
        return view


class DeleteComment:
    """Delete a comment of an article. Its author, moderators and admins may."""

    def __init__(self, uow: UnitOfWork[ArticlesTransaction]) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, slug: str, comment_id: CommentId) -> None:
        async with self._uow.begin() as tx:
            article = await tx.articles.get_by_slug(slug)
            if article is None:
                raise ArticleNotFound()
            comment = await tx.comments.get(comment_id)
            if comment is None or comment.article_id != article.id:
                raise CommentNotFound()
            ensure_can_delete_comment(actor, comment)
            await tx.comments.delete(comment_id)
            tx.record(
                CommentsChanged(article.slug, article.id, comment_id, actor.user_id, deleted=True)
            )
            await tx.commit()
