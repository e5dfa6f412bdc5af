"""Request and response bodies of /articles, comments and tags."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.articles.model import (
    BODY_MAX,
    COMMENT_MAX,
    DESCRIPTION_MAX,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    body_of,
    comment_body_of,
    description_of,
    tags_of,
    title_of,
)
from core.articles.use_cases import EditArticleInput, PublishArticleInput
from core.articles.views import ArticleView, CommentView
from core.shared.pagination import Page
from entrypoints.http.schemas.common import (
    EXAMPLE_PROFILE,
    EXAMPLE_TIME,
    Profile,
    checked_by,
    iso_utc,
    profile_fields,
)

TagName = Annotated[str, StringConstraints(max_length=TAG_MAX)]
# Fields an author writes, checked by the core's rule for each (see checked_by).
Title = Annotated[str, Field(max_length=TITLE_MAX), checked_by(title_of)]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX), checked_by(description_of)]
Body = Annotated[str, Field(max_length=BODY_MAX), checked_by(body_of)]
TagList = Annotated[list[TagName], Field(max_length=TAGS_MAX), checked_by(tags_of)]
CommentBody = Annotated[str, Field(max_length=COMMENT_MAX), checked_by(comment_body_of)]

EXAMPLE_LIST_ITEM: dict[str, Any] = {
    "slug": "how-to-train-your-dragon",
    "title": "How to train your dragon",
    "description": "Ever wonder how?",
    "tagList": ["dragons", "training"],
    "createdAt": EXAMPLE_TIME,
    "updatedAt": EXAMPLE_TIME,
    "favorited": False,
    "favoritesCount": 0,
    "author": EXAMPLE_PROFILE,
}
EXAMPLE_ARTICLE: dict[str, Any] = {**EXAMPLE_LIST_ITEM, "body": "It takes a Jacobian"}
EXAMPLE_COMMENT: dict[str, Any] = {
    "id": 1,
    "createdAt": EXAMPLE_TIME,
    "updatedAt": EXAMPLE_TIME,
    "body": "It takes a Jacobian",
    "author": EXAMPLE_PROFILE,
}


class NewArticle(BaseModel):
    title: Title = Field(examples=["How to train your dragon"])
    description: Description = Field(examples=["Ever wonder how?"])
    body: Body = Field(examples=["You have to believe"])
    tagList: TagList = Field(default_factory=list, examples=[["dragons"]])


class NewArticleRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "article": {
                        "title": "How to train your dragon",
                        "description": "Ever wonder how?",
                        "body": "You have to believe",
                        "tagList": ["reactjs", "angularjs", "dragons"],
                    }
                }
            ]
        }
    )
    article: NewArticle

    def to_input(self) -> PublishArticleInput:
        a = self.article
        return PublishArticleInput(a.title, a.description, a.body, tuple(a.tagList))


class UpdateArticle(BaseModel):
    title: Title | None = None
    description: Description | None = None
    body: Body | None = None
    tagList: TagList | None = None


class UpdateArticleRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"article": {"body": "With two hands"}}]}
    )
    article: UpdateArticle

    def to_input(self, if_version: frozenset[str] | None = None) -> EditArticleInput:
        a = self.article
        tags = None if a.tagList is None else tuple(a.tagList)
        return EditArticleInput(a.title, a.description, a.body, tags, if_version)


class ArticleListItem(BaseModel):
    slug: str
    title: str
    description: str
    tagList: list[str]
    createdAt: str = Field(examples=["2026-11-22T04:15:05.123Z"])
    updatedAt: str = Field(examples=["2026-11-22T04:15:05.123Z"])
    favorited: bool
    favoritesCount: int
    author: Profile

    @classmethod
    def of(cls, view: ArticleView) -> Self:
        # One mapping for both shapes: a list item drops `body` (pydantic ignores extra fields).
        return cls(
            slug=view.slug,
            title=view.title,
            description=view.description,
            body=view.body,
            tagList=list(view.tags),
            createdAt=iso_utc(view.created_at),
            updatedAt=iso_utc(view.updated_at),
            favorited=view.favorited,
            favoritesCount=view.favorites_count,
            author=Profile.of(view.author),
        )


class Article(ArticleListItem):
    body: str


class SingleArticleResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"article": EXAMPLE_ARTICLE}]})

    article: Article

    @classmethod
    def of(cls, view: ArticleView) -> SingleArticleResponse:
        return cls(article=Article.of(view))


def list_item_fields(view: ArticleView, author: dict[str, Any] | None = None) -> dict[str, Any]:
    """An `ArticleListItem` for orjson (see profile_fields): the model's fields, in its order;
    `author`, when given, is `profile_fields(view.author)`."""
    return {
        "slug": view.slug,
        "title": view.title,
        "description": view.description,
        "tagList": view.tags,
        "createdAt": iso_utc(view.created_at),
        "updatedAt": iso_utc(view.updated_at),
        "favorited": view.favorited,
        "favoritesCount": view.favorites_count,
        "author": profile_fields(view.author) if author is None else author,
    }


def article_json(view: ArticleView) -> bytes:
    """The JSON of `SingleArticleResponse.of(view)`, written from the view (`body` comes last,
    as `Article` declares it after the list item's fields)."""
    fields = list_item_fields(view)
    fields["body"] = view.body
    return orjson.dumps({"article": fields})


class MultipleArticlesResponse(BaseModel):
    """A page of articles (without `body`, spec 1.1.0) and the number of all matches."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"articles": [EXAMPLE_LIST_ITEM], "articlesCount": 1}]}
    )

    articles: list[ArticleListItem]
    articlesCount: int

    @classmethod
    def of(cls, page: Page[ArticleView]) -> MultipleArticlesResponse:
        items = [ArticleListItem.of(v) for v in page.items]
        return cls(articles=items, articlesCount=page.total)


def articles_page_json(page: Page[ArticleView]) -> bytes:
    """The JSON of `MultipleArticlesResponse.of(page)`, written from the views. A page's
    articles share their author's profile view (the read side builds one per author and page):
    its fields are written once per profile object."""
    authors: dict[int, dict[str, Any]] = {}
    items = []
    for view in page.items:
        author = authors.get(id(view.author))
        if author is None:
            author = authors[id(view.author)] = profile_fields(view.author)
        items.append(list_item_fields(view, author))
    return orjson.dumps({"articles": items, "articlesCount": page.total})


class NewComment(BaseModel):
    body: CommentBody = Field(examples=["Thank you so much!"])


class NewCommentRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"comment": {"body": "His name was my name too."}}]}
    )
    comment: NewComment


class Comment(BaseModel):
    id: int
    createdAt: str
    updatedAt: str
    body: str
    author: Profile

    @classmethod
    def of(cls, view: CommentView) -> Comment:
        return cls(
            id=view.id,
            createdAt=iso_utc(view.created_at),
            updatedAt=iso_utc(view.updated_at),
            body=view.body,
            author=Profile.of(view.author),
        )


def comments_json(views: Iterable[CommentView]) -> bytes:
    """The JSON of `MultipleCommentsResponse` of `Comment.of` each view, written from the
    views."""
    return orjson.dumps(
        {
            "comments": [
                {
                    "id": v.id,
                    "createdAt": iso_utc(v.created_at),
                    "updatedAt": iso_utc(v.updated_at),
                    "body": v.body,
                    "author": profile_fields(v.author),
                }
                for v in views
            ]
        }
    )


class SingleCommentResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"comment": EXAMPLE_COMMENT}]})

    comment: Comment


class MultipleCommentsResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"comments": [EXAMPLE_COMMENT]}]})

    comments: list[Comment]


class TagsResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"tags": ["dragons", "training"]}]})

    tags: list[str]

    @classmethod
    def of(cls, tags: list[str]) -> TagsResponse:
        return cls(tags=tags)


def tags_json(tags: list[str]) -> bytes:
    """The JSON of `TagsResponse.of(tags)`."""
    return orjson.dumps({"tags": tags})
