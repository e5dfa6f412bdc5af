"""The events of GET /articles/{slug}/events, for the OpenAPI document (each event's `data`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from entrypoints.http.schemas.articles import Comment
from entrypoints.http.schemas.common import EXAMPLE_PROFILE, EXAMPLE_TIME

V = Field(description="Version of this payload's shape", examples=[1])
SLUG = Field(description="The article's slug now")


class CommentCreatedData(BaseModel):
    v: Literal[1] = V
    slug: str = SLUG
    commentId: int
    comment: Comment | None = Field(description="As the comment list shows it; null if deleted")


class CommentDeletedData(BaseModel):
    v: Literal[1] = V
    slug: str = SLUG
    commentId: int


class ArticleUpdatedData(BaseModel):
    v: Literal[1] = V
    slug: str = Field(description="The slug after the edit (a new title gives a new one)")
    title: str


class ArticleFavoritedData(BaseModel):
    v: Literal[1] = V
    slug: str = SLUG
    favoritesCount: int | None = Field(
        description="The count when the event was read; null if the article is gone by then"
    )


class ArticleDeletedData(BaseModel):
    v: Literal[1] = V
    slug: str = SLUG


EXAMPLE_EVENT: dict[str, Any] = {
    "event": "comment.created",
    "id": "1042-1",
    "data": {
        "v": 1,
        "slug": "how-to-train-your-dragon",
        "commentId": 7,
        "comment": {
            "id": 7,
            "createdAt": EXAMPLE_TIME,
            "updatedAt": EXAMPLE_TIME,
            "body": "Nice",
            "author": EXAMPLE_PROFILE,
        },
    },
}


class ArticleEventItem(BaseModel):
    """One event of the stream: `event:` its type, `id:` (send it back as Last-Event-ID to
    resume), `data:` its JSON payload. `article.deleted` is the last one. Between events, a
    comment line (`: heartbeat`) keeps proxies from closing a quiet stream."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_EVENT]})

    event: Literal[
        "comment.created",
        "comment.deleted",
        "article.updated",
        "article.favorited",
        "article.deleted",
    ]
    id: str = Field(examples=["1042-1"])
    data: (
        CommentCreatedData
        | CommentDeletedData
        | ArticleUpdatedData
        | ArticleFavoritedData
        | ArticleDeletedData
    )
