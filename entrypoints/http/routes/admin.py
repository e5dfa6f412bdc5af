"""Routes: the admin API (users, roles, deactivation)."""

from __future__ import annotations

import inspect
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from core.auth.admin import ChangeUserAccess, ListUsers
from core.auth.ports import UserFilter
from core.shared.errors import InvalidInput
from core.shared.ids import UserId
from core.users.model import USERNAME_MAX, Role
from entrypoints.http.deps import SessionUser, provide
from entrypoints.http.errors import JSON_BODY_ERRORS, error_responses
from entrypoints.http.schemas.auth import (
    AdminUser,
    AdminUserResponse,
    AdminUsersResponse,
    UserAccessRequest,
)

router = APIRouter(prefix="/admin", tags=["admin"], responses=error_responses(401, 403))

ListUsersDep = Annotated[ListUsers, Depends(provide(ListUsers))]
ChangeUserAccessDep = Annotated[ChangeUserAccess, Depends(provide(ChangeUserAccess))]


def _cursor(raw: str | None) -> UserId | None:
    if raw is None:
        return None
    try:
        return UserId(uuid.UUID(hex=raw))
    except ValueError:
        raise InvalidInput("is not a cursor from a previous page", field="cursor") from None


@router.get(
    "/users",
    name="admin:list_users",
    summary="List users (admins)",
    description=inspect.getdoc(ListUsers),
    responses=error_responses(422),
)
async def list_users(
    actor: SessionUser,
    list_: ListUsersDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    role: Role | None = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=254)] = None,
) -> AdminUsersResponse:
    page = await list_.execute(actor, UserFilter(role, active, q), _cursor(cursor), limit)
    return AdminUsersResponse.of(page)


@router.patch(
    "/users/{username}",
    name="admin:update_user",
    summary="Change a user's role or deactivate them (admins)",
    description=inspect.getdoc(ChangeUserAccess),
    responses=error_responses(*JSON_BODY_ERRORS, 404),
)
async def update_user(
    username: Annotated[str, Path(max_length=USERNAME_MAX, examples=["jake"])],
    body: UserAccessRequest,
    actor: SessionUser,
    change: ChangeUserAccessDep,
) -> AdminUserResponse:
    user = await change.execute(actor, username, body.role, body.active)
    return AdminUserResponse(user=AdminUser.of(user))
