"""Row <-> entity functions; no SQLAlchemy row leaves this package."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from core.articles.model import Article, Comment
from core.shared.ids import ArticleId, CommentId, UserId
from core.users.model import User


def user_from_row(row: Row[Any]) -> User:
    return User(
        UserId(row.id),
        row.username,
        row.email,
        row.password_hash,
        row.bio,
        row.image,
        row.created_at,
        row.updated_at,
    )


def user_to_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "password_hash": user.password_hash,
        "bio": user.bio,
        "image": user.image,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


def article_from_row(row: Row[Any], tags: Sequence[str]) -> Article:
    return Article(
        ArticleId(row.id),
        UserId(row.author_id),
        row.slug,
        row.title,
        row.description,
        row.body,
        tuple(sorted(tags)),
        row.created_at,
        row.updated_at,
    )


def article_to_values(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "author_id": article.author_id,
        "slug": article.slug,
        "title": article.title,
        "description": article.description,
        "body": article.body,
        "created_at": article.created_at,
        "updated_at": article.updated_at,
    }


def comment_from_row(row: Row[Any]) -> Comment:
    return Comment(
        CommentId(row.id),
        ArticleId(row.article_id),
        UserId(row.author_id),
        row.body,
        row.created_at,
        row.updated_at,
    )
