"""Routes: the caller's webhooks (/user/webhooks) and every webhook for admins."""

from __future__ import annotations

import inspect
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from core.shared.pagination import DEFAULT_LIMIT, MAX_LIMIT
from core.webhooks.use_cases import (
    CreateWebhook,
    DeleteWebhook,
    GetWebhook,
    ListAllWebhooks,
    ListDeliveries,
    ListWebhooks,
    RedeliverWebhook,
    RotateWebhookSecret,
    UpdateWebhook,
)
from entrypoints.http.deps import CurrentUser, SessionUser, WebhooksWriter, provide
from entrypoints.http.errors import JSON_BODY_ERRORS, error_responses
from entrypoints.http.schemas.webhooks import (
    AdminWebhooksResponse,
    CreateWebhookRequest,
    DeliveriesResponse,
    UpdateWebhookRequest,
    WebhookResponse,
    WebhookSecretResponse,
    WebhooksResponse,
)

router = APIRouter(prefix="/user/webhooks", tags=["webhooks"], responses=error_responses(401, 403))
admin_router = APIRouter(prefix="/admin", tags=["admin"], responses=error_responses(401, 403))

CreateDep = Annotated[CreateWebhook, Depends(provide(CreateWebhook))]
ListDep = Annotated[ListWebhooks, Depends(provide(ListWebhooks))]
GetDep = Annotated[GetWebhook, Depends(provide(GetWebhook))]
UpdateDep = Annotated[UpdateWebhook, Depends(provide(UpdateWebhook))]
DeleteDep = Annotated[DeleteWebhook, Depends(provide(DeleteWebhook))]
RotateDep = Annotated[RotateWebhookSecret, Depends(provide(RotateWebhookSecret))]
DeliveriesDep = Annotated[ListDeliveries, Depends(provide(ListDeliveries))]
RedeliverDep = Annotated[RedeliverWebhook, Depends(provide(RedeliverWebhook))]
ListAllDep = Annotated[ListAllWebhooks, Depends(provide(ListAllWebhooks))]
WebhookIdPath = Annotated[
    uuid.UUID,
    Path(description="The webhook's id", examples=["0b5e7bfc-6f83-4a55-9f0a-8b2f0f4f9a51"]),
]


@router.post(
    "",
    status_code=201,
    name="webhooks:create",
    summary="Subscribe a URL to events",
    description=inspect.getdoc(CreateWebhook),
    responses=error_responses(*JSON_BODY_ERRORS),
)
async def create_webhook(
    body: CreateWebhookRequest, actor: WebhooksWriter, create: CreateDep
) -> WebhookSecretResponse:
    return WebhookSecretResponse.of(await create.execute(actor, body.to_input()))


@router.get(
    "",
    name="webhooks:list",
    summary="The caller's webhooks",
    description=inspect.getdoc(ListWebhooks),
)
async def list_webhooks(actor: CurrentUser, list_: ListDep) -> WebhooksResponse:
    return WebhooksResponse.of(await list_.execute(actor))


@router.get(
    "/{webhook_id}",
    name="webhooks:get",
    summary="One of the caller's webhooks",
    description=inspect.getdoc(GetWebhook),
    responses=error_responses(404, 422),
)
async def get_webhook(
    webhook_id: WebhookIdPath, actor: CurrentUser, get: GetDep
) -> WebhookResponse:
    return WebhookResponse.of(await get.execute(actor, webhook_id))


@router.patch(
    "/{webhook_id}",
    name="webhooks:update",
    summary="Change a webhook",
    description=inspect.getdoc(UpdateWebhook),
    responses=error_responses(404, *JSON_BODY_ERRORS),
)
async def update_webhook(
    webhook_id: WebhookIdPath, body: UpdateWebhookRequest, actor: WebhooksWriter, update: UpdateDep
) -> WebhookResponse:
    return WebhookResponse.of(await update.execute(actor, webhook_id, body.to_input()))


@router.delete(
    "/{webhook_id}",
    status_code=204,
    name="webhooks:delete",
    summary="Delete a webhook",
    description=inspect.getdoc(DeleteWebhook),
    responses=error_responses(404, 422),
)
async def delete_webhook(
    webhook_id: WebhookIdPath, actor: WebhooksWriter, delete: DeleteDep
) -> Response:
    await delete.execute(actor, webhook_id)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    name="webhooks:rotate_secret",
    summary="Rotate a webhook's signing secret",
    description=inspect.getdoc(RotateWebhookSecret),
    responses=error_responses(404, 422),
)
async def rotate_secret(
    webhook_id: WebhookIdPath, actor: WebhooksWriter, rotate: RotateDep
) -> WebhookSecretResponse:
    return WebhookSecretResponse.of(await rotate.execute(actor, webhook_id))


@router.get(
    "/{webhook_id}/deliveries",
    name="webhooks:deliveries",
    summary="A webhook's delivery log",
    description=inspect.getdoc(ListDeliveries),
    responses=error_responses(404, 422),
)
async def list_deliveries(
    webhook_id: WebhookIdPath,
    actor: CurrentUser,
    list_: DeliveriesDep,
    cursor: Annotated[str | None, Query(max_length=20, description="nextCursor of a page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> DeliveriesResponse:
    page = await list_.execute(actor, webhook_id, cursor=cursor, limit=limit)
    return DeliveriesResponse.of(page)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=204,
    name="webhooks:redeliver",
    summary="Send a delivery again",
    description=inspect.getdoc(RedeliverWebhook),
    responses=error_responses(404, 422),
)
async def redeliver(
    webhook_id: WebhookIdPath,
    delivery_id: Annotated[int, Path(ge=1, le=2**62, examples=[17])],
    actor: WebhooksWriter,
    redeliver: RedeliverDep,
) -> Response:
    await redeliver.execute(actor, webhook_id, delivery_id)
    return Response(status_code=204)


@admin_router.get(
    "/webhooks",
    name="admin:list_webhooks",
    summary="List every webhook (admins)",
    description=inspect.getdoc(ListAllWebhooks),
    responses=error_responses(422),
)
async def list_all_webhooks(
    actor: SessionUser,
    list_: ListAllDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> AdminWebhooksResponse:
    return AdminWebhooksResponse.of(await list_.execute(actor, cursor=cursor, limit=limit))
