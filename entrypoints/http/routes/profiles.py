"""Routes: profiles and following."""

from __future__ import annotations

import inspect
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from core.profiles.use_cases import FollowUser, GetProfile, UnfollowUser
from core.users.model import USERNAME_MAX
from entrypoints.http.conditional import (
    NOT_MODIFIED,
    RenderedOnce,
    conditional_body,
    digest,
)
from entrypoints.http.deps import OptionalUser, SocialWriter, provide
from entrypoints.http.errors import error_responses
from entrypoints.http.schemas.profiles import ProfileResponse, profile_json

router = APIRouter(tags=["profiles"], responses=error_responses(401, 404, 422))
Username = Annotated[str, Path(max_length=USERNAME_MAX, examples=["jake"])]

GetProfileDep = Annotated[GetProfile, Depends(provide(GetProfile))]
FollowUserDep = Annotated[FollowUser, Depends(provide(FollowUser))]
UnfollowUserDep = Annotated[UnfollowUser, Depends(provide(UnfollowUser))]

RENDERED_PROFILES = RenderedOnce(profile_json)  # hot anonymous profiles: JSON, ETag


@router.get(
    "/profiles/{username}",
    name="profiles:get",
    summary="Get a profile",
    description=inspect.getdoc(GetProfile),
    response_model=ProfileResponse,
    responses=NOT_MODIFIED,
)
async def get_profile(
    request: Request, username: Username, viewer: OptionalUser, get: GetProfileDep
) -> Response:
    view = await get.execute(username, viewer.user_id if viewer else None)
    if viewer is None:  # the cache's shared view (anonymous): rendered once per process
        body, etag = RENDERED_PROFILES.render(view)
        return conditional_body(request, body, etag)
    body = profile_json(view)
    return conditional_body(request, body, digest(body))


@router.post(
    "/profiles/{username}/follow",
    name="profiles:follow",
    summary="Follow a user",
    description=inspect.getdoc(FollowUser),
    responses=error_responses(403),
)
async def follow(
    username: Username, actor: SocialWriter, follow_user: FollowUserDep
) -> ProfileResponse:
    return ProfileResponse.of(await follow_user.execute(actor, username))


@router.delete(
    "/profiles/{username}/follow",
    name="profiles:unfollow",
    summary="Unfollow a user",
    description=inspect.getdoc(UnfollowUser),
    responses=error_responses(403),
)
async def unfollow(
    username: Username, actor: SocialWriter, unfollow_user: UnfollowUserDep
) -> ProfileResponse:
    return ProfileResponse.of(await unfollow_user.execute(actor, username))
