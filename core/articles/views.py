"""Read models of the articles context: frozen DTOs for callers, and the content version."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import datetime

from core.profiles.views import ProfileView
from core.shared.ids import CommentId
from core.shared.views import View


@dataclass(frozen=True, slots=True)
class ArticleView(View):
    """An article as a viewer sees it: `favorited` and `author.following` are theirs.

    Built with `ArticleView.of(source, ...)` (see View.of) by every read side and the cache.
    """

    slug: str
    title: str
    description: str
    body: str
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    favorited: bool
    favorites_count: int
    author: ProfileView

    @property
    def version(self) -> str:
        """The article's content version (see content_version): what an edit that names the
        version it read is checked against."""
        return content_version(self)


# The fields of an ArticleView that are not the article's content: the viewer's flag, the
# favorites count, the author's profile, and created_at (it never changes). Every other field
# is content, so a new field is in the version unless it is listed here.
NOT_CONTENT = frozenset({"created_at", "favorited", "favorites_count", "author"})
CONTENT_FIELDS = tuple(f.name for f in fields(ArticleView) if f.name not in NOT_CONTENT)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return "\x1e".join(_text(item) for item in value)
    if value is None:
        return "\x00"  # stored text never holds NUL, so None differs from any text
    return repr(value)


def content_version(article: object) -> str:
    """A short, stable digest of an article's content (CONTENT_FIELDS, read by name from an
    ArticleView or the Article entity, which must agree): changes whenever any of it changes.

    Used for optimistic concurrency (an edit names the version it read): favorites and
    comments don't change it.
    """
    text = "\x1f".join(_text(getattr(article, name)) for name in CONTENT_FIELDS)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class CommentView(View):
    """A comment as a viewer sees it; built with `CommentView.of(source, ...)` (see View.of)."""

    id: CommentId
    body: str
    created_at: datetime
    updated_at: datetime
    author: ProfileView


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """Filters of the global list; they combine (AND). Usernames are exact."""

    tag: str | None = None
    author: str | None = None
    favorited_by: str | None = None
