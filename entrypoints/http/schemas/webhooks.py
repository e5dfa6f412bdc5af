"""Request and response bodies of /user/webhooks and /admin/webhooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.webhooks.model import (
    ATTEMPT_LOG_MAX,
    DESCRIPTION_MAX,
    MAX_EVENTS,
    Attempt,
    Delivery,
)
from core.webhooks.use_cases import CreateWebhookInput, UpdateWebhookInput
from core.webhooks.views import DeliveryPage, WebhookPage, WebhookView, WebhookWithSecret
from entrypoints.http.schemas.common import EXAMPLE_TIME, iso_utc

# Longer than any URL the core accepts (2000): its 422 says why, in the one error shape.
_URL_INPUT_MAX = 4_096

EXAMPLE_WEBHOOK: dict[str, Any] = {
    "id": "0b5e7bfc-6f83-4a55-9f0a-8b2f0f4f9a51",
    "url": "https://hooks.example.com/conduit",
    "events": ["article.published", "comment.created"],
    "description": "new articles and comments to our chat",
    "active": True,
    "disabledReason": None,
    "consecutiveFailures": 0,
    "previousSecretExpiresAt": None,
    "createdAt": EXAMPLE_TIME,
    "updatedAt": EXAMPLE_TIME,
}


class NewWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=_URL_INPUT_MAX)
    events: list[str] = Field(max_length=MAX_EVENTS * 2)
    description: str = Field(default="", max_length=DESCRIPTION_MAX * 2)


class CreateWebhookRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "webhook": {
                        "url": "https://hooks.example.com/conduit",
                        "events": ["article.published", "comment.created"],
                        "description": "new articles and comments to our chat",
                    }
                }
            ]
        },
    )

    webhook: NewWebhook

    def to_input(self) -> CreateWebhookInput:
        w = self.webhook
        return CreateWebhookInput(w.url, tuple(w.events), w.description)


class WebhookChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=_URL_INPUT_MAX)
    events: list[str] | None = Field(default=None, max_length=MAX_EVENTS * 2)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX * 2)
    active: bool | None = None


class UpdateWebhookRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"webhook": {"active": False}}]}
    )

    webhook: WebhookChanges

    def to_input(self) -> UpdateWebhookInput:
        w = self.webhook
        events = None if w.events is None else tuple(w.events)
        return UpdateWebhookInput(w.url, events, w.description, w.active)


class Webhook(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    disabledReason: str | None = Field(description="Why the worker disabled it, if it did")
    consecutiveFailures: int = Field(description="Failed deliveries since the last success")
    previousSecretExpiresAt: str | None = Field(
        description="After a rotation: until when the previous secret also signs"
    )
    createdAt: str
    updatedAt: str

    @classmethod
    def of(cls, v: WebhookView) -> Webhook:
        overlap = v.previous_secret_expires_at
        return cls(
            id=str(v.id),
            url=v.url,
            events=list(v.events),
            description=v.description,
            active=v.active,
            disabledReason=v.disabled_reason,
            consecutiveFailures=v.consecutive_failures,
            previousSecretExpiresAt=None if overlap is None else iso_utc(overlap),
            createdAt=iso_utc(v.created_at),
            updatedAt=iso_utc(v.updated_at),
        )


class WebhookWithSecretBody(Webhook):
    secret: str = Field(description="The signing secret: shown in this answer only")


class WebhookResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"webhook": EXAMPLE_WEBHOOK}]})

    webhook: Webhook

    @classmethod
    def of(cls, view: WebhookView) -> WebhookResponse:
        return cls(webhook=Webhook.of(view))


class WebhookSecretResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"webhook": EXAMPLE_WEBHOOK | {"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}
            ]
        }
    )

    webhook: WebhookWithSecretBody

    @classmethod
    def of(cls, created: WebhookWithSecret) -> WebhookSecretResponse:
        body = Webhook.of(created.webhook).model_dump()
        return cls(webhook=WebhookWithSecretBody(**body, secret=created.secret))


class WebhooksResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"webhooks": [EXAMPLE_WEBHOOK]}]})

    webhooks: list[Webhook]

    @classmethod
    def of(cls, views: tuple[WebhookView, ...]) -> WebhooksResponse:
        return cls(webhooks=[Webhook.of(v) for v in views])


class AdminWebhook(Webhook):
    ownerId: str


class AdminWebhooksResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "webhooks": [EXAMPLE_WEBHOOK | {"ownerId": EXAMPLE_WEBHOOK["id"]}],
                    "nextCursor": None,
                }
            ]
        }
    )

    webhooks: list[AdminWebhook]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")

    @classmethod
    def of(cls, page: WebhookPage) -> AdminWebhooksResponse:
        return cls(
            webhooks=[
                AdminWebhook(**Webhook.of(v).model_dump(), ownerId=str(v.owner_id))
                for v in page.items
            ],
            nextCursor=None if page.next_cursor is None else page.next_cursor.hex,
        )


class AttemptBody(BaseModel):
    attempt: int = Field(description="1 for a delivery's first attempt, on across redeliveries")
    attemptedAt: str
    statusCode: int | None = Field(description="The receiver's HTTP status; null: no answer")
    latencyMs: int
    error: str | None = Field(description="Why the attempt failed short of an answer, if it did")
    response: str = Field(description="The first 1 KiB of the answer")

    @classmethod
    def of(cls, a: Attempt) -> AttemptBody:
        return cls(
            attempt=a.attempt,
            attemptedAt=iso_utc(a.attempted_at),
            statusCode=a.status_code,
            latencyMs=a.latency_ms,
            error=a.error,
            response=a.response,
        )


class DeliveryBody(BaseModel):
    id: int
    webhookId: str = Field(description="The `webhook-id` header, the same on every attempt")
    eventType: str
    status: str = Field(description="pending, succeeded or failed")
    attempts: int
    lastStatusCode: int | None
    lastLatencyMs: int | None
    lastError: str | None
    lastResponse: str | None = Field(description="The first 1 KiB of the last answer")
    lastAttemptAt: str | None
    nextAttemptAt: str | None
    createdAt: str
    attemptLog: list[AttemptBody] = Field(
        description="Every attempt of this delivery, oldest first: at most the newest "
        f"{ATTEMPT_LOG_MAX} (older ones are left out; `attempts` counts since the last "
        "redelivery)"
    )

    @classmethod
    def of(cls, d: Delivery, attempts: Sequence[Attempt] = ()) -> DeliveryBody:
        return cls(
            id=d.id,
            webhookId=d.message_id,
            eventType=d.event_type,
            status=d.status.value,
            attempts=d.attempts,
            lastStatusCode=d.last_status_code,
            lastLatencyMs=d.last_latency_ms,
            lastError=d.last_error,
            lastResponse=d.last_response,
            lastAttemptAt=None if d.last_attempt_at is None else iso_utc(d.last_attempt_at),
            nextAttemptAt=None
            if d.next_attempt_at is None or d.status.value != "pending"
            else iso_utc(d.next_attempt_at),
            createdAt=iso_utc(d.created_at),
            attemptLog=[AttemptBody.of(a) for a in attempts],
        )


EXAMPLE_DELIVERY: dict[str, Any] = {
    "id": 17,
    "webhookId": "msg_2b0c4f3e9d8a4c1f8e7d6c5b4a392817",
    "eventType": "article.published",
    "status": "pending",
    "attempts": 2,
    "lastStatusCode": 503,
    "lastLatencyMs": 120,
    "lastError": None,
    "lastResponse": "Service Unavailable",
    "lastAttemptAt": EXAMPLE_TIME,
    "nextAttemptAt": EXAMPLE_TIME,
    "createdAt": EXAMPLE_TIME,
    "attemptLog": [
        {
            "attempt": n,
            "attemptedAt": EXAMPLE_TIME,
            "statusCode": 503,
            "latencyMs": latency,
            "error": None,
            "response": "Service Unavailable",
        }
        for n, latency in ((1, 95), (2, 120))
    ],
}


class DeliveriesResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"deliveries": [EXAMPLE_DELIVERY], "nextCursor": "17"}]}
    )

    deliveries: list[DeliveryBody]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")

    @classmethod
    def of(cls, page: DeliveryPage) -> DeliveriesResponse:
        return cls(
            deliveries=[DeliveryBody.of(d, page.attempt_log.get(d.id, ())) for d in page.items],
            nextCursor=None if page.next_cursor is None else str(page.next_cursor),
        )
