"""Read models of the articles context: frozen DTOs for callers."""

from __future__ import annotations

from dataclasses import dataclass
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
