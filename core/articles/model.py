"""Article and Comment entities; slug and tag rules."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from core.articles.views import content_version
from core.shared.errors import InvalidInput
from core.shared.ids import ArticleId, CommentId, UserId
from core.shared.text import reject_nul

TITLE_MAX = 200
DESCRIPTION_MAX = 1_000
BODY_MAX = 100_000
TAG_MAX = 50
TAGS_MAX = 20
COMMENT_MAX = 10_000
SLUG_BASE_MAX = 100

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(title: str) -> str:
    """`How to Train Your Dragon!` -> `how-to-train-your-dragon`.

    ASCII-folds accents, keeps only `[a-z0-9-]`, collapses runs of other characters into one
    `-`, trims dashes, cuts to SLUG_BASE_MAX characters. Empty when nothing is left.
    Idempotent: slugify(slugify(t)) == slugify(t).
    """
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = _NON_SLUG.sub("-", folded.lower()).strip("-")
    return slug[:SLUG_BASE_MAX].rstrip("-")


def unique_slug(title: str, article_id: ArticleId) -> str:
    """The fallback when the plain slug is taken: the plain slug plus part of the id.

    UUIDv7 ids are time-ordered, so take the random tail, not the timestamp head.
    """
    suffix = article_id.hex[-8:]
    base = slugify(title)
    return f"{base}-{suffix}" if base else suffix


def _required(value: str, field: str, maximum: int) -> str:
    text = reject_nul(value, field).strip()
    if text == "":
        raise InvalidInput("can't be blank", field=field)
    if len(text) > maximum:
        raise InvalidInput(f"is too long (maximum is {maximum} characters)", field=field)
    return text


def title_of(raw: str) -> str:
    return _required(raw, "title", TITLE_MAX)


def description_of(raw: str) -> str:
    return _required(raw, "description", DESCRIPTION_MAX)


def body_of(raw: str) -> str:
    return _required(raw, "body", BODY_MAX)


def comment_body_of(raw: str) -> str:
    return _required(raw, "body", COMMENT_MAX)


def tags_of(raw: Iterable[str]) -> tuple[str, ...]:
    """Tags trimmed, blanks dropped, duplicates removed, sorted by name (as clients expect)."""
    tags: set[str] = set()
    for item in raw:
        tag = reject_nul(item, "tagList").strip()
        if tag == "":
            continue
        if len(tag) > TAG_MAX:
            raise InvalidInput(
                f"has a tag that is too long (maximum is {TAG_MAX} characters)", field="tagList"
            )
        tags.add(tag)
    if len(tags) > TAGS_MAX:
        raise InvalidInput(f"has too many tags (maximum is {TAGS_MAX})", field="tagList")
    return tuple(sorted(tags))


@dataclass(frozen=True, slots=True)
class Article:
    id: ArticleId
    author_id: UserId
    slug: str
    title: str
    description: str
    body: str
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def version(self) -> str:
        """The content version, the same as its ArticleView's (what an edit is checked against)."""
        return content_version(self)

    def edited(
        self,
        *,
        now: datetime,
        slug: str | None = None,
        title: str | None = None,
        description: str | None = None,
        body: str | None = None,
        tags: tuple[str, ...] | None = None,
    ) -> Article:
        return replace(
            self,
            slug=self.slug if slug is None else slug,
            title=self.title if title is None else title,
            description=self.description if description is None else description,
            body=self.body if body is None else body,
            tags=self.tags if tags is None else tags,
            updated_at=now,
        )


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment; `id` is None until storage assigns one."""

    id: CommentId | None
    article_id: ArticleId
    author_id: UserId
    body: str
    created_at: datetime
    updated_at: datetime
