"""Routes: articles, favorites, comments and tags."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from core.articles.model import TAG_MAX
from core.articles.queries import Feed, GetArticle, ListArticles, ListComments, ListTags
from core.articles.use_cases import (
    AddComment,
    DeleteArticle,
    DeleteComment,
    EditArticle,
    FavoriteArticle,
    PublishArticle,
    UnfavoriteArticle,
)
from core.articles.views import ArticleFilter
from core.shared.ids import CommentId
from core.shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, PageRequest
from core.users.model import USERNAME_MAX
from entrypoints.http.conditional import (
    NOT_MODIFIED,
    RenderedOnce,
    article_etag_value,
    conditional_body,
    digest,
    versions_from_if_match,
)
from entrypoints.http.deps import (
    ArticlesWriter,
    CommentsWriter,
    FeedReader,
    OptionalUser,
    SocialWriter,
    provide,
)
from entrypoints.http.errors import JSON_BODY_ERRORS, error_responses
from entrypoints.http.schemas.articles import (
    Comment,
    MultipleArticlesResponse,
    MultipleCommentsResponse,
    NewArticleRequest,
    NewCommentRequest,
    SingleArticleResponse,
    SingleCommentResponse,
    TagsResponse,
    UpdateArticleRequest,
    article_json,
    articles_page_json,
    comments_json,
    tags_json,
)

article_routes = APIRouter(tags=["articles"], responses=error_responses(401, 422))
favorite_routes = APIRouter(tags=["favorites"], responses=error_responses(401, 403, 404, 422))
comment_routes = APIRouter(tags=["comments"], responses=error_responses(401, 404, 422))
tag_routes = APIRouter(tags=["tags"])

ListArticlesDep = Annotated[ListArticles, Depends(provide(ListArticles))]
FeedDep = Annotated[Feed, Depends(provide(Feed))]
PublishArticleDep = Annotated[PublishArticle, Depends(provide(PublishArticle))]
GetArticleDep = Annotated[GetArticle, Depends(provide(GetArticle))]
EditArticleDep = Annotated[EditArticle, Depends(provide(EditArticle))]
DeleteArticleDep = Annotated[DeleteArticle, Depends(provide(DeleteArticle))]
FavoriteArticleDep = Annotated[FavoriteArticle, Depends(provide(FavoriteArticle))]
UnfavoriteArticleDep = Annotated[UnfavoriteArticle, Depends(provide(UnfavoriteArticle))]
ListCommentsDep = Annotated[ListComments, Depends(provide(ListComments))]
AddCommentDep = Annotated[AddComment, Depends(provide(AddComment))]
DeleteCommentDep = Annotated[DeleteComment, Depends(provide(DeleteComment))]
ListTagsDep = Annotated[ListTags, Depends(provide(ListTags))]

# The JSON (and ETag) of hot views the cache shares: list pages (no ETag sent, any size),
# anonymous articles, the tag list (one cached value).
RENDERED_PAGES = RenderedOnce(articles_page_json, entries=8, max_body_bytes=None)
RENDERED_ARTICLES = RenderedOnce(article_json, etag_of=article_etag_value)
RENDERED_TAGS = RenderedOnce(tags_json, entries=4)
# Read routes answer with JSON written from the views (schemas' `*_json`, byte for byte the
# declared response model's), not a model built, validated again and serialised (issue 10);
# `response_model` stays declared for the OpenAPI document.

Slug = Annotated[str, Path(max_length=200, examples=["how-to-train-your-dragon"])]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")]
# EditArticle's StaleArticleVersion, as a client of PUT meets it.
STALE_IF_MATCH: dict[int | str, dict[str, Any]] = {
    412: {
        **error_responses(412)[412],
        "description": "If-Match names no current version: the article changed since it was read",
    }
}


@article_routes.get(
    "/articles",
    name="articles:list",
    summary="List articles",
    description=inspect.getdoc(ListArticles),
    response_model=MultipleArticlesResponse,
)
async def list_articles(
    viewer: OptionalUser,
    list_: ListArticlesDep,
    tag: Annotated[str | None, Query(max_length=TAG_MAX)] = None,
    author: Annotated[str | None, Query(max_length=USERNAME_MAX)] = None,
    favorited: Annotated[str | None, Query(max_length=USERNAME_MAX)] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Response:
    page = await list_.execute(
        ArticleFilter(tag=tag, author=author, favorited_by=favorited),
        PageRequest(limit, offset),
        viewer.user_id if viewer else None,
    )
    return Response(RENDERED_PAGES.body(page), media_type="application/json")


@article_routes.get(
    "/articles/feed",
    name="articles:feed",
    summary="Feed of followed authors",
    description=inspect.getdoc(Feed),
    response_model=MultipleArticlesResponse,
    responses=error_responses(403),
)
async def feed(
    actor: FeedReader, feed_: FeedDep, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> Response:
    page = await feed_.execute(actor.user_id, PageRequest(limit, offset))
    return Response(articles_page_json(page), media_type="application/json")


@article_routes.post(
    "/articles",
    status_code=201,
    name="articles:create",
    summary="Publish an article",
    description=inspect.getdoc(PublishArticle),
    responses=error_responses(*JSON_BODY_ERRORS, 403),
)
async def create_article(
    body: NewArticleRequest, actor: ArticlesWriter, publish: PublishArticleDep
) -> SingleArticleResponse:
    return SingleArticleResponse.of(await publish.execute(actor, body.to_input()))


@article_routes.get(
    "/articles/{slug}",
    name="articles:get",
    summary="Get an article",
    description=inspect.getdoc(GetArticle),
    response_model=SingleArticleResponse,
    responses={**error_responses(404), **NOT_MODIFIED},
)
async def get_article(
    request: Request, slug: Slug, viewer: OptionalUser, get: GetArticleDep
) -> Response:
    view = await get.execute(slug, viewer.user_id if viewer else None)
    if viewer is None:  # the cache's shared view (anonymous): rendered once per process
        body, etag = RENDERED_ARTICLES.render(view)
        return conditional_body(request, body, etag)
    body = article_json(view)
    return conditional_body(request, body, article_etag_value(view, body))


@article_routes.put(
    "/articles/{slug}",
    name="articles:update",
    summary="Edit an article",
    description=inspect.getdoc(EditArticle),
    response_model=SingleArticleResponse,
    responses={**error_responses(*JSON_BODY_ERRORS, 403, 404), **STALE_IF_MATCH},
)
async def update_article(
    request: Request,
    slug: Slug,
    body: UpdateArticleRequest,
    actor: ArticlesWriter,
    edit: EditArticleDep,
) -> Response:
    # If-Match: the content version(s) the editor started from; a stale one is 412.
    view = await edit.execute(actor, slug, body.to_input(versions_from_if_match(request)))
    payload = article_json(view)
    return conditional_body(request, payload, article_etag_value(view, payload))


@article_routes.delete(
    "/articles/{slug}",
    status_code=204,
    name="articles:delete",
    summary="Delete an article",
    description=inspect.getdoc(DeleteArticle),
    responses=error_responses(403, 404),
)
async def delete_article(slug: Slug, actor: ArticlesWriter, delete: DeleteArticleDep) -> Response:
    await delete.execute(actor, slug)
    return Response(status_code=204)


@favorite_routes.post(
    "/articles/{slug}/favorite",
    name="articles:favorite",
    summary="Favorite an article",
    description=inspect.getdoc(FavoriteArticle),
)
async def favorite(
    slug: Slug, actor: SocialWriter, favorite_: FavoriteArticleDep
) -> SingleArticleResponse:
    return SingleArticleResponse.of(await favorite_.execute(actor, slug))


@favorite_routes.delete(
    "/articles/{slug}/favorite",
    name="articles:unfavorite",
    summary="Unfavorite an article",
    description=inspect.getdoc(UnfavoriteArticle),
)
async def unfavorite(
    slug: Slug, actor: SocialWriter, unfavorite_: UnfavoriteArticleDep
) -> SingleArticleResponse:
    return SingleArticleResponse.of(await unfavorite_.execute(actor, slug))


@comment_routes.get(
    "/articles/{slug}/comments",
    name="comments:list",
    summary="List an article's comments",
    description=inspect.getdoc(ListComments),
    response_model=MultipleCommentsResponse,
    responses=NOT_MODIFIED,
)
async def list_comments(
    request: Request, slug: Slug, viewer: OptionalUser, list_: ListCommentsDep
) -> Response:
    body = comments_json(await list_.execute(slug, viewer.user_id if viewer else None))
    return conditional_body(request, body, digest(body))


@comment_routes.post(
    "/articles/{slug}/comments",
    name="comments:create",
    summary="Comment on an article",
    description=inspect.getdoc(AddComment),
    responses=error_responses(*JSON_BODY_ERRORS, 403),
)
async def create_comment(
    slug: Slug, body: NewCommentRequest, actor: CommentsWriter, add: AddCommentDep
) -> SingleCommentResponse:
    # 200, not 201: the RealWorld spec says so for this one create.
    return SingleCommentResponse(
        comment=Comment.of(await add.execute(actor, slug, body.comment.body))
    )


@comment_routes.delete(
    "/articles/{slug}/comments/{comment_id}",
    status_code=204,
    name="comments:delete",
    summary="Delete a comment",
    description=inspect.getdoc(DeleteComment),
    responses=error_responses(403),
)
async def delete_comment(
    slug: Slug,
    comment_id: Annotated[int, Path(ge=1, le=2**63 - 1, examples=[1])],
    actor: CommentsWriter,
    delete: DeleteCommentDep,
) -> Response:
    await delete.execute(actor, slug, CommentId(comment_id))
    return Response(status_code=204)


@tag_routes.get(
    "/tags",
    name="tags:list",
    summary="List tags",
    description=inspect.getdoc(ListTags),
    response_model=TagsResponse,
    responses=NOT_MODIFIED,
)
async def list_tags(request: Request, list_: ListTagsDep) -> Response:
    tags = await list_.execute()  # the cache's shared list while it stays the same
    body, etag = RENDERED_TAGS.render(tags)
    return conditional_body(request, body, etag)


# What app.py adds under the API prefixes, in order: /articles/feed stays ahead of
# /articles/{slug}.
routers = (article_routes, favorite_routes, comment_routes, tag_routes)
