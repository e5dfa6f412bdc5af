"""Routes: the caller's notifications."""

from __future__ import annotations

import inspect
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from core.notifications.use_cases import ListNotifications, MarkNotificationsRead
from core.shared.pagination import DEFAULT_LIMIT, MAX_LIMIT
from entrypoints.http.deps import SessionUser, provide
from entrypoints.http.errors import JSON_BODY_ERRORS, error_responses
from entrypoints.http.schemas.notifications import MarkReadRequest, NotificationsResponse

router = APIRouter(tags=["notifications"], responses=error_responses(401, 403, 422))

ListNotificationsDep = Annotated[ListNotifications, Depends(provide(ListNotifications))]
MarkReadDep = Annotated[MarkNotificationsRead, Depends(provide(MarkNotificationsRead))]


@router.get(
    "/notifications",
    name="notifications:list",
    summary="The caller's notifications",
    description=inspect.getdoc(ListNotifications),
)
async def list_notifications(
    actor: SessionUser,
    list_: ListNotificationsDep,
    cursor: Annotated[str | None, Query(max_length=20, description="nextCursor of a page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    unread: Annotated[bool, Query(description="Only unread notifications")] = False,
) -> NotificationsResponse:
    page = await list_.execute(actor, cursor=cursor, limit=limit, unread_only=unread)
    return NotificationsResponse.of(page)


@router.post(
    "/notifications/read",
    name="notifications:read",
    summary="Mark notifications read",
    description=inspect.getdoc(MarkNotificationsRead),
    status_code=204,
    responses=error_responses(*JSON_BODY_ERRORS),
)
async def mark_read(actor: SessionUser, body: MarkReadRequest, mark: MarkReadDep) -> Response:
    await mark.execute(actor, body.to_input())
    return Response(status_code=204)
