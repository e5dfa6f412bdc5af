"""Read models of the webhooks context."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from core.webhooks.model import Attempt, Delivery, Subscription


@dataclass(frozen=True, slots=True)
class WebhookView:
    id: uuid.UUID
    owner_id: uuid.UUID
    url: str
    events: tuple[str, ...]
    description: str
    active: bool
    disabled_reason: str | None
    consecutive_failures: int
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, s: Subscription, now: datetime) -> WebhookView:
        overlap = s.previous_secret_expires_at
        return cls(
            s.id,
            s.owner_id,
            s.url,
            s.events,
            s.description,
            s.active,
            s.disabled_reason,
            s.consecutive_failures,
            overlap if overlap is not None and overlap > now else None,
            s.created_at,
            s.updated_at,
        )


@dataclass(frozen=True, slots=True)
class WebhookWithSecret:
    """A subscription and its signing secret: shown once, at creation or rotation."""

    webhook: WebhookView
    secret: str


@dataclass(frozen=True, slots=True)
class WebhookPage:
    items: tuple[WebhookView, ...]
    next_cursor: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    """Newest first; `next_cursor` continues after the last item (None: no more).
    `attempt_log` holds each item's attempts by delivery id, oldest first (the newest
    ATTEMPT_LOG_MAX of them; a delivery never attempted: absent)."""

    items: tuple[Delivery, ...]
    next_cursor: int | None
    attempt_log: Mapping[int, tuple[Attempt, ...]] = field(default_factory=dict)
