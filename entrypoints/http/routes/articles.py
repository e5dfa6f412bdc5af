"""Routes: articles, favorites, comments and tags."""

from __future__ import annotations

import inspect
from typing import Annotated

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
    article_etag_value,
    conditional_json,
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
)

router = APIRouter()
Slug = Annotated[str, Path(max_length=200, examples=["how-to-train-your-dragon"])]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")]


@router.get(
    "/articles",
    tags=["articles"],
    name="articles:list",
    summary="List articles",
    description=inspect.getdoc(ListArticles),
    responses=error_responses(401, 422),
)
async def list_articles(
    viewer: OptionalUser,
    list_: Annotated[ListArticles, Depends(provide(ListArticles))],
    tag: Annotated[str | None, Query(max_length=TAG_MAX)] = None,
    author: Annotated[str | None, Query(max_length=USERNAME_MAX)] = None,
    favorited: Annotated[str | None, Query(max_length=USERNAME_MAX)] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> MultipleArticlesResponse:
    page = await list_.execute(
        ArticleFilter(tag=tag, author=author, favorited_by=favorited),
        PageRequest(limit, offset),
        viewer.user_id if viewer else None,
    )
    return MultipleArticlesResponse.of(page)


@router.get(
    "/articles/feed",
    tags=["articles"],
    name="articles:feed",
    summary="Feed of followed authors",
    description=inspect.getdoc(Feed),
    responses=error_responses(401, 403, 422),
)
async def feed(
    actor: FeedReader,
    feed_: Annotated[Feed, Depends(provide(Feed))],
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> MultipleArticlesResponse:
    return MultipleArticlesResponse.of(
        await feed_.execute(actor.user_id, PageRequest(limit, offset))
    )


@router.post(
    "/articles",
    status_code=201,
    tags=["articles"],
    name="articles:create",
    summary="Publish an article",
    description=inspect.getdoc(PublishArticle),
    responses=error_responses(*JSON_BODY_ERRORS, 401, 403),
)
async def create_article(
    body: NewArticleRequest,
    actor: ArticlesWriter,
    publish: Annotated[PublishArticle, Depends(provide(PublishArticle))],
) -> SingleArticleResponse:
    return SingleArticleResponse.of(await publish.execute(actor, body.to_input()))


@router.get(
    "/articles/{slug}",
    tags=["articles"],
    name="articles:get",
    summary="Get an article",
    description=inspect.getdoc(GetArticle),
    response_model=SingleArticleResponse,
    responses={**error_responses(401, 404, 422), **NOT_MODIFIED},
)
async def get_article(
    request: Request,
    slug: Slug,
    viewer: OptionalUser,
    get: Annotated[GetArticle, Depends(provide(GetArticle))],
) -> Response:
    view = await get.execute(slug, viewer.user_id if viewer else None)
    return conditional_json(
        request,
        SingleArticleResponse.of(view),
        etag_of=lambda body: article_etag_value(view, body),
    )


@router.put(
    "/articles/{slug}",
    tags=["articles"],
    name="articles:update",
    summary="Edit an article",
    description=inspect.getdoc(EditArticle),
    response_model=SingleArticleResponse,
    responses=error_responses(*JSON_BODY_ERRORS, 401, 403, 404, 412),
)
async def update_article(
    request: Request,
    slug: Slug,
    body: UpdateArticleRequest,
    actor: ArticlesWriter,
    edit: Annotated[EditArticle, Depends(provide(EditArticle))],
) -> Response:
    # If-Match: the content version(s) the editor started from; a stale one is 412.
    view = await edit.execute(actor, slug, body.to_input(versions_from_if_match(request)))
    return conditional_json(
        request,
        SingleArticleResponse.of(view),
        etag_of=lambda payload: article_etag_value(view, payload),
    )


@router.delete(
    "/articles/{slug}",
    status_code=204,
    tags=["articles"],
    name="articles:delete",
    summary="Delete an article",
    description=inspect.getdoc(DeleteArticle),
    responses=error_responses(401, 403, 404, 422),
)
async def delete_article(
    slug: Slug,
    actor: ArticlesWriter,
    delete: Annotated[DeleteArticle, Depends(provide(DeleteArticle))],
) -> Response:
    await delete.execute(actor, slug)
    return Response(status_code=204)


@router.post(
    "/articles/{slug}/favorite",
    tags=["favorites"],
    name="articles:favorite",
    summary="Favorite an article",
    description=inspect.getdoc(FavoriteArticle),
    responses=error_responses(401, 403, 404, 422),
)
async def favorite(
    slug: Slug,
    actor: SocialWriter,
    favorite_: Annotated[FavoriteArticle, Depends(provide(FavoriteArticle))],
) -> SingleArticleResponse:
    return SingleArticleResponse.of(await favorite_.execute(actor, slug))


@router.delete(
    "/articles/{slug}/favorite",
    tags=["favorites"],
    name="articles:unfavorite",
    summary="Unfavorite an article",
    description=inspect.getdoc(UnfavoriteArticle),
    responses=error_responses(401, 403, 404, 422),
)
async def unfavorite(
    slug: Slug,
    actor: SocialWriter,
    unfavorite_: Annotated[UnfavoriteArticle, Depends(provide(UnfavoriteArticle))],
) -> SingleArticleResponse:
    return SingleArticleResponse.of(await unfavorite_.execute(actor, slug))


@router.get(
    "/articles/{slug}/comments",
    tags=["comments"],
    name="comments:list",
    summary="List an article's comments",
    description=inspect.getdoc(ListComments),
    response_model=MultipleCommentsResponse,
    responses={**error_responses(401, 404, 422), **NOT_MODIFIED},
)
async def list_comments(
    request: Request,
    slug: Slug,
    viewer: OptionalUser,
    list_: Annotated[ListComments, Depends(provide(ListComments))],
) -> Response:
    views = await list_.execute(slug, viewer.user_id if viewer else None)
    return conditional_json(
        request, MultipleCommentsResponse(comments=[Comment.of(v) for v in views])
    )


@router.post(
    "/articles/{slug}/comments",
    tags=["comments"],
    name="comments:create",
    summary="Comment on an article",
    description=inspect.getdoc(AddComment),
    responses=error_responses(*JSON_BODY_ERRORS, 401, 403, 404),
)
async def create_comment(
    slug: Slug,
    body: NewCommentRequest,
    actor: CommentsWriter,
    add: Annotated[AddComment, Depends(provide(AddComment))],
) -> SingleCommentResponse:
    # 200, not 201: the RealWorld spec says so for this one create.
    return SingleCommentResponse(
        comment=Comment.of(await add.execute(actor, slug, body.comment.body))
    )


@router.delete(
    "/articles/{slug}/comments/{comment_id}",
    status_code=204,
    tags=["comments"],
    name="comments:delete",
    summary="Delete a comment",
    description=inspect.getdoc(DeleteComment),
    responses=error_responses(401, 403, 404, 422),
)
async def delete_comment(
    slug: Slug,
    comment_id: Annotated[int, Path(ge=1, le=2**63 - 1, examples=[1])],
    actor: CommentsWriter,
    delete: Annotated[DeleteComment, Depends(provide(DeleteComment))],
) -> Response:
    await delete.execute(actor, slug, CommentId(comment_id))
    return Response(status_code=204)


@router.get(
    "/tags",
    tags=["tags"],
    name="tags:list",
    summary="List tags",
    description=inspect.getdoc(ListTags),
    response_model=TagsResponse,
    responses=NOT_MODIFIED,
)
async def list_tags(
    request: Request, list_: Annotated[ListTags, Depends(provide(ListTags))]
) -> Response:
    return conditional_json(request, TagsResponse(tags=await list_.execute()))
