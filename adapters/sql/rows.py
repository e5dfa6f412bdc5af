"""Row <-> entity functions; no SQLAlchemy row leaves this package."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import Row

from adapters.sql.tables import articles
from core.articles.model import Article, Comment
from core.auth.model import ApiKey, RefreshToken
from core.shared.ids import ArticleId, CommentId, UserId
from core.users.model import Role, Scope, User, username_key, username_skeleton


def user_from_row(values: Mapping[Any, Any]) -> User:
    """A User from a row's mapping (`row._mapping`, or a read connection's `rows()`)."""
    return User(
        UserId(values["id"]),
        values["username"],
        values["email"],
        values["password_hash"],
        values["bio"],
        values["image"],
        values["created_at"],
        values["updated_at"],
        Role(values["role"]),
        bool(values["active"]),
        int(values["token_version"]),
    )


def user_to_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "username_key": username_key(user.username),
        "username_skeleton": username_skeleton(user.username),
        "email": user.email,
        "password_hash": user.password_hash,
        "bio": user.bio,
        "image": user.image,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "role": user.role.value,
        "active": user.active,
        "token_version": user.token_version,
    }


# The Article's fields stored in `articles`, by name (its tags live in `article_tags`).
_ARTICLE_COLUMNS = tuple(f.name for f in fields(Article) if f.name in articles.c)


def article_from_row(row: Row[Any], tags: Sequence[str]) -> Article:
    values = row._mapping
    return Article(**{name: values[name] for name in _ARTICLE_COLUMNS}, tags=tuple(sorted(tags)))


def article_to_values(article: Article) -> dict[str, Any]:
    return {name: getattr(article, name) for name in _ARTICLE_COLUMNS}


def comment_from_row(row: Row[Any]) -> Comment:
    return Comment(
        CommentId(row.id),
        ArticleId(row.article_id),
        UserId(row.author_id),
        row.body,
        row.created_at,
        row.updated_at,
    )


def refresh_token_from_row(row: Row[Any]) -> RefreshToken:
    return RefreshToken(
        row.id,
        row.family_id,
        UserId(row.user_id),
        row.token_hash,
        row.created_at,
        row.expires_at,
        row.used_at,
        row.revoked_at,
    )


def api_key_from_row(row: Row[Any]) -> ApiKey:
    return ApiKey(
        row.id,
        UserId(row.user_id),
        row.name,
        row.prefix,
        row.secret_hash,
        frozenset(Scope(s) for s in row.scopes.split()),
        row.created_at,
        row.last_used_at,
        row.revoked_at,
    )


def api_key_to_values(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "user_id": key.user_id,
        "name": key.name,
        "prefix": key.prefix,
        "secret_hash": key.secret_hash,
        "scopes": " ".join(sorted(s.value for s in key.scopes)),
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }
