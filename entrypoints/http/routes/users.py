"""Routes: registration, login, the current user."""

from __future__ import annotations

import inspect
from typing import Annotated

from fastapi import APIRouter, Depends

from core.auth.sessions import LogIn, SignUp
from core.users.use_cases import GetCurrentUser, UpdateUser
from entrypoints.http.deps import ClientAddress, CurrentUser, ProfileWriter, provide
from entrypoints.http.errors import HASHING_BUSY, JSON_BODY_ERRORS, error_responses
from entrypoints.http.schemas.users import (
    LoginUserRequest,
    NewUserRequest,
    UpdateUserRequest,
    UserResponse,
)

router = APIRouter(tags=["users"])

LogInDep = Annotated[LogIn, Depends(provide(LogIn))]
SignUpDep = Annotated[SignUp, Depends(provide(SignUp))]
GetCurrentUserDep = Annotated[GetCurrentUser, Depends(provide(GetCurrentUser))]
UpdateUserDep = Annotated[UpdateUser, Depends(provide(UpdateUser))]


@router.post(
    "/users/login",
    name="users:login",
    summary="Log in",
    description=inspect.getdoc(LogIn),
    responses={**error_responses(*JSON_BODY_ERRORS, 401, 429), **HASHING_BUSY},
)
async def login(body: LoginUserRequest, client: ClientAddress, log_in: LogInDep) -> UserResponse:
    return UserResponse.of(await log_in.execute(body.to_input(client)))


@router.post(
    "/users",
    status_code=201,
    name="users:register",
    summary="Register",
    description=inspect.getdoc(SignUp),
    responses={**error_responses(*JSON_BODY_ERRORS), **HASHING_BUSY},
)
async def register(body: NewUserRequest, sign_up: SignUpDep) -> UserResponse:
    return UserResponse.of(await sign_up.execute(body.to_input()))


@router.get(
    "/user",
    name="users:current",
    summary="Get the current user",
    description=inspect.getdoc(GetCurrentUser),
    responses=error_responses(401),
)
async def current(actor: CurrentUser, get_user: GetCurrentUserDep) -> UserResponse:
    return UserResponse.of(await get_user.execute(actor))


@router.put(
    "/user",
    name="users:update",
    summary="Update the current user",
    description=inspect.getdoc(UpdateUser),
    responses={**error_responses(*JSON_BODY_ERRORS, 401, 403), **HASHING_BUSY},
)
async def update(
    body: UpdateUserRequest, actor: ProfileWriter, update_user: UpdateUserDep
) -> UserResponse:
    return UserResponse.of(await update_user.execute(actor, body.to_input()))
